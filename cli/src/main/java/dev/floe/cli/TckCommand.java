package dev.floe.cli;

import dev.floe.spi.BackendOptions;
import dev.floe.tck.Tck;
import dev.floe.tck.TckOptions;
import dev.floe.tck.TckReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code floe tck --backend NAME}: runs the technology compatibility kit and prints one line per check. */
@Command(name = "tck", mixinStandardHelpOptions = true,
        description = "Run the technology compatibility kit against a backend: every kernel against a float64 oracle, "
                + "the golden models, determinism, concurrency, memory release, the error contract and the routers. "
                + "Exit status 1 when a check fails, 2 when the backend is not installed, 3 when nothing exercised the "
                + "backend (it is unavailable, or every check that uses it was skipped or filtered out).")
final class TckCommand implements Callable<Integer> {
    /** Exit status of a run that checked nothing on the backend: no conformance claim, and not a failure either. */
    static final int NOTHING_CHECKED = 3;

    @Spec
    CommandSpec spec;

    @Option(names = "--backend", required = true, paramLabel = "NAME", description = "the backend to check (see `floe backends`)")
    String backend;

    @Option(names = "--fixture", paramLabel = "DIR", description = "an extra golden fixture folder (repeatable)")
    List<Path> fixtures = new ArrayList<>();

    @Option(names = "--report", paramLabel = "FILE", description = "write the JSON report here")
    Path report;

    @Option(names = "--dump", paramLabel = "DIR",
            description = "write each failing check's inputs, outputs and oracle values here (NumPy .npy, and check.json with the command that reruns it)")
    Path dump;

    @Option(names = "--filter", paramLabel = "REGEX", description = "run only the checks whose name matches")
    String filter;

    @Option(names = "--no-bundled", description = "skip the fixtures bundled with Floe")
    boolean noBundled;

    @Option(names = "--seed", paramLabel = "N", description = "seed of the random inputs (default: the published one)")
    Long seed;

    @Option(names = "--threads", paramLabel = "N", description = "backend worker threads (0: its default)")
    int threads;

    @Option(names = "--property", paramLabel = "KEY=VALUE", description = "a backend property, e.g. opencl.device=1 (repeatable)")
    Map<String, String> properties = Map.of();

    @Override
    public Integer call() {
        TckOptions options = TckOptions.defaults().withFixtures(fixtures).withBundledFixtures(!noBundled).withFilter(filter)
                .withBackendOptions(new BackendOptions(threads, properties)).withDump(dump);
        if (seed != null) options = options.withSeed(seed);
        TckReport result = new Tck().run(backend, options);
        if (report != null) {
            result.writeJson(report);
            System.out.println("report: " + report);
        }
        if (result.probe().startsWith("no backend named")) return 2;
        if (result.failed() > 0) return 1;
        if (!result.exercisedBackend()) {
            spec.commandLine().getErr().println("tck: nothing exercised backend '" + backend + "' (" + result.summary()
                    + (result.device().equals("-") ? "; unavailable: " + result.probe() : "")
                    + "): this run is no conformance claim");
            return NOTHING_CHECKED;
        }
        return 0;
    }
}
