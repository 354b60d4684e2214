/**
 * The technology compatibility kit: proves that a {@link dev.floe.spi.Backend} computes what the float64 reference
 * computes (kernel checks), runs the golden models (model checks), keeps its threading, memory and error contracts
 * (behaviour checks), and that the gating strategies match their oracles (routing checks). Entry points:
 * {@link dev.floe.tck.Tck}, {@link dev.floe.tck.TckTests} for JUnit 5, and {@code floe tck}.
 */
module dev.floe.tck {
    requires transitive dev.floe.runtime;
    requires com.fasterxml.jackson.databind;
    exports dev.floe.tck;
    exports dev.floe.tck.behaviour;
    exports dev.floe.tck.group;
    exports dev.floe.tck.kernel;
    exports dev.floe.tck.model;
    exports dev.floe.tck.oracle;
    exports dev.floe.tck.routing;
    uses dev.floe.spi.BackendProvider;
    uses dev.floe.spi.RouterProvider;
    /** Research modules add the float64 reference of their router. */
    uses dev.floe.tck.routing.RouterOracle;
}
