/** Gating strategies (routers), each a provider found by name. */
module dev.floe.gating {
    requires dev.floe.spi;
    exports dev.floe.gating;
    provides dev.floe.spi.RouterProvider with dev.floe.gating.SoftmaxTopKProvider;
}
