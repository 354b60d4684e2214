/** The {@code floe} command. */
module dev.floe.cli {
    requires dev.floe.runtime;
    requires dev.floe.tck;
    requires dev.floe.gating;
    requires info.picocli;
    requires com.fasterxml.jackson.databind;
    requires org.eclipse.jetty.server;
    requires jdk.management;
    requires java.logging;
    requires jdk.unsupported;
    requires java.net.http;
    opens dev.floe.cli to info.picocli, com.fasterxml.jackson.databind;
    exports dev.floe.cli.serve;
}
