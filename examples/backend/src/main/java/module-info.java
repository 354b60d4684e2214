/** An out-of-tree Floe backend: plain scalar Java, F32 weights only (the runtime dequantises every other dtype). */
module example.backend {
    requires dev.floe.spi;
    provides dev.floe.spi.BackendProvider with example.backend.ScalarProvider;
}
