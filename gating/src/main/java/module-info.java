/** Gating strategies (routers), each a provider found by name, and routing telemetry. */
module dev.floe.gating {
    requires transitive dev.floe.spi;
    exports dev.floe.gating;
    provides dev.floe.spi.RouterProvider with
            dev.floe.gating.SoftmaxTopKProvider,
            dev.floe.gating.SigmoidTopKProvider,
            dev.floe.gating.CapacityTopKProvider,
            dev.floe.gating.ExpertChoiceProvider,
            dev.floe.gating.HashRouterProvider,
            dev.floe.gating.RandomRouterProvider;
}
