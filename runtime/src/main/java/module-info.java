/** The engine: checkpoint loading, the Arctic/Mixtral layer graph written once against the SPI, generation. */
module dev.floe.runtime {
    requires transitive dev.floe.api;
    requires transitive dev.floe.spi;
    requires com.fasterxml.jackson.databind;
    requires jdk.management;
    exports dev.floe.runtime;
    exports dev.floe.runtime.bench;
    exports dev.floe.runtime.checkpoint;
    exports dev.floe.runtime.config;
    exports dev.floe.runtime.experts;
    exports dev.floe.runtime.generate;
    exports dev.floe.runtime.golden;
    exports dev.floe.runtime.grammar;
    exports dev.floe.runtime.kv;
    exports dev.floe.runtime.launch;
    exports dev.floe.runtime.model;
    exports dev.floe.runtime.parallel;
    exports dev.floe.runtime.plan;
    exports dev.floe.runtime.quantize;
    exports dev.floe.runtime.serving;
    exports dev.floe.runtime.tokenizer;
    provides dev.floe.api.Engine with dev.floe.runtime.FloeEngine;
    provides dev.floe.spi.ExpertStoreProvider with dev.floe.runtime.experts.ExpertStores.Mapped,
            dev.floe.runtime.experts.ExpertStores.Memory;
    uses dev.floe.spi.BackendProvider;
    uses dev.floe.spi.RouterProvider;
    uses dev.floe.spi.SchedulerProvider;
    uses dev.floe.spi.ExpertStoreProvider;
}
