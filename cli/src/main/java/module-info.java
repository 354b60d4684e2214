/** The {@code floe} command. */
module dev.floe.cli {
    requires dev.floe.runtime;
    requires dev.floe.tck;
    requires info.picocli;
    opens dev.floe.cli to info.picocli;
}
