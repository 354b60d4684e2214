/** Schedulers: static batching, continuous batching, Dynamic SplitFuse. */
module dev.floe.scheduler {
    requires dev.floe.spi;
}
