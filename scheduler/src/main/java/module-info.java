/** Schedulers: static batching, continuous batching, Dynamic SplitFuse; each a provider found by name. */
module dev.floe.scheduler {
    requires transitive dev.floe.spi;
    exports dev.floe.scheduler;
    provides dev.floe.spi.SchedulerProvider with
            dev.floe.scheduler.StaticBatchingProvider,
            dev.floe.scheduler.ContinuousBatchingProvider,
            dev.floe.scheduler.SplitFuseProvider;
}
