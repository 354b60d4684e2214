/** The technology compatibility kit: kernel and model conformance checks for any backend. */
module dev.floe.tck {
    requires transitive dev.floe.runtime;
    requires com.fasterxml.jackson.databind;
    exports dev.floe.tck.routing;
    uses dev.floe.spi.RouterProvider;
}
