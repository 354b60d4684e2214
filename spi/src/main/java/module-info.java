/**
 * Floe's service-provider interface: what hardware vendors implement (backends, communicators) and what researchers
 * plug in (routers, schedulers, expert stores). Exposes no backend type.
 */
module dev.floe.spi {
    requires transitive dev.floe.api;
    exports dev.floe.spi;
    uses dev.floe.spi.BackendProvider;
    uses dev.floe.spi.RouterProvider;
    uses dev.floe.spi.SchedulerProvider;
    uses dev.floe.spi.ExpertStoreProvider;
}
