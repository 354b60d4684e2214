/** The engine: checkpoint loading, the Arctic/Mixtral layer graph written once against the SPI, generation. */
module dev.floe.runtime {
    requires transitive dev.floe.api;
    requires transitive dev.floe.spi;
    requires com.fasterxml.jackson.databind;
    exports dev.floe.runtime;
    exports dev.floe.runtime.tokenizer;
    provides dev.floe.api.Engine with dev.floe.runtime.FloeEngine;
    uses dev.floe.spi.BackendProvider;
    uses dev.floe.spi.RouterProvider;
    uses dev.floe.spi.SchedulerProvider;
    uses dev.floe.spi.ExpertStoreProvider;
}
