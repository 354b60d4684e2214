package dev.floe.cli;

import dev.floe.runtime.Plugins;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code floe} command: generate, check, inspect, backends, and the tools of the other modules. */
@Command(name = "floe", mixinStandardHelpOptions = true, versionProvider = FloeCli.Version.class,
        description = "Run Dense-MoE language models (Snowflake Arctic, Mixtral) on pluggable backends.",
        subcommands = {GenerateCommand.class, CheckCommand.class, BackendsCommand.class, RoutersCommand.class, SchedulersCommand.class, InspectCommand.class, PlanCommand.class, BenchCommand.class, QuantizeCommand.class, RouteStatsCommand.class, ServeCommand.class, BenchServeCommand.class, TckCommand.class,
                CommandLine.HelpCommand.class})
public final class FloeCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Sets the plugin path for everything that looks providers up afterwards; accepted before or after the command. */
    @CommandLine.Option(names = "--plugin-path", paramLabel = "DIR[:DIR...]", scope = CommandLine.ScopeType.INHERIT,
            description = "folders of plugin jars or exploded modules (or single jars) adding backends, routers, schedulers "
                    + "and expert stores; default: $FLOE_PLUGIN_PATH")
    void pluginPath(String path) {
        System.setProperty(Plugins.PROPERTY, path);
        try {
            Plugins.path(); // a bad entry fails here, naming it, rather than at first use
        } catch (RuntimeException e) {
            System.clearProperty(Plugins.PROPERTY);
            throw new CommandLine.ParameterException(spec.commandLine(), "--plugin-path: " + e.getMessage());
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, with errors reported as one clear line instead of a stack trace. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new FloeCli());
        cl.setExecutionExceptionHandler((ex, line, parse) -> {
            if (ex instanceof ModelArgs.Followed) return 0; // a follower rank's command ends with rank 0's
            line.getErr().println("floe " + line.getCommandName() + ": " + Errors.describe(ex));
            if (Boolean.getBoolean("floe.debug")) ex.printStackTrace(line.getErr());
            return 2;
        });
        return cl;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[]{"floe 0.1.0", "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
