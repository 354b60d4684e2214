/** The {@code floe} command. */
module dev.floe.cli {
    requires dev.floe.runtime;
    requires dev.floe.tck;
    requires dev.floe.gating;
    requires info.picocli;
    requires com.fasterxml.jackson.databind;
    opens dev.floe.cli to info.picocli, com.fasterxml.jackson.databind;
}
