package dev.floe.tck;

import dev.floe.api.InvalidRequestException;
import dev.floe.runtime.Backends;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.Providers;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.Probe;
import dev.floe.tck.behaviour.BehaviourChecks;
import dev.floe.tck.behaviour.ContractChecks;
import dev.floe.tck.group.GroupChecks;
import dev.floe.tck.kernel.KernelChecks;
import dev.floe.tck.model.ModelChecks;
import dev.floe.tck.routing.RoutingChecks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * The technology compatibility kit: runs every check (kernel, model, behaviour, routing) against the backend of a
 * name and reports one line per check and a {@link TckReport}. A backend that is not installed or whose probe says
 * it is unavailable gets every check SKIPPED with the reason.
 */
public final class Tck {
    /** The version of the kit, written in every report. */
    public static final String VERSION = "1.2.0";

    /** Runs the kit against the backend {@code backendName}. */
    public TckReport run(String backendName, TckOptions options) {
        long start = System.nanoTime();
        Path root = findRoot(options);
        String noBundled = null;
        if (root == null && options.bundledFixtures()) {
            try {
                root = BundledFixtures.root();
            } catch (RuntimeException e) {
                noBundled = "the bundled fixtures cannot be read: " + e.getMessage();
            }
        }
        List<Path> fixtures = new ArrayList<>();
        List<Check> unreadable = new ArrayList<>();
        if (options.bundledFixtures()) {
            for (String dir : BundledFixtures.FOLDERS) {
                if (root != null && Files.isDirectory(root.resolve(dir))) {
                    fixtures.add(root.resolve(dir));
                } else {
                    // a check that cannot run is reported skipped with the reason, never left out
                    String reason = noBundled != null ? noBundled : "fixture folder " + dir + " is missing under " + root;
                    List<Check> perFixture = new ArrayList<>(ModelChecks.all(List.of(Path.of(dir))));
                    perFixture.addAll(GroupChecks.models(List.of(Path.of(dir))));
                    for (Check c : perFixture) {
                        unreadable.add(new Check(c.category(), c.name(), ctx -> {
                            throw new Check.Skip(reason);
                        }));
                    }
                }
            }
        }
        fixtures.addAll(options.fixtures());
        List<Check> all = new ArrayList<>(checks(fixtures));
        all.addAll(unreadable);
        List<Check> checks = all.stream().filter(c -> options.filter() == null || options.filter().matcher(c.name()).find()).toList();

        BackendProvider provider;
        Probe probe;
        try {
            provider = find(backendName);
            probe = provider == null ? new Probe.Unavailable("no backend named '" + backendName + "' is installed (installed: "
                    + installed() + ")") : Backends.safeProbe(provider);
        } catch (InvalidRequestException duplicate) {
            provider = null;
            probe = new Probe.Unavailable(duplicate.getMessage());
        }
        String version = provider == null ? "-" : provider.version();
        List<String> capabilities = provider == null ? List.of()
                : provider.capabilities().stream().map(Capability::id).sorted().toList();
        String device = probe.available() ? probe.detail() : "-";
        List<CheckReport> results = new ArrayList<>();
        if (options.out() != null) {
            options.out().println("# Floe TCK " + VERSION + ": backend " + backendName + " " + version + " on " + device
                    + (probe.available() ? "" : " (unavailable: " + probe.detail() + ")"));
        }
        if (!probe.available()) {
            for (Check c : checks) record(results, options, new CheckReport(c.category(), c.name(), Double.NaN, Double.NaN,
                    Outcome.SKIPPED, "backend unavailable: " + probe.detail(), 0));
        } else {
            try (TckContext ctx = new TckContext(backendName, provider, options, root, fixtures)) {
                try {
                    Backend b = ctx.backend();
                    device = b.device();
                } catch (RuntimeException e) {
                    device = "failed to open: " + e;
                }
                for (Check c : checks) record(results, options, runOne(c, ctx));
            }
        }
        int passed = count(results, Outcome.PASSED), failed = count(results, Outcome.FAILED), skipped = count(results, Outcome.SKIPPED);
        TckReport report = new TckReport(VERSION, backendName, version, device, probe.detail(), capabilities,
                Runtime.version() + " (" + System.getProperty("java.vm.name") + ", " + System.getProperty("java.vendor") + ")",
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
                Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), options.seed(),
                Math.round((System.nanoTime() - start) / 1e7) / 100.0, passed, failed, skipped, results);
        if (options.out() != null) {
            options.out().println(report.backendSummary());
            options.out().println(report.summary());
        }
        return report;
    }

    /** Every check of the kit, for these fixture folders, in the order they run. */
    public static List<Check> checks(List<Path> fixtures) {
        List<Check> all = new ArrayList<>(KernelChecks.all());
        all.addAll(dev.floe.tck.kernel.Spi2Checks.all());
        all.addAll(ModelChecks.all(fixtures));
        all.addAll(BehaviourChecks.all());
        all.addAll(ContractChecks.all());
        all.addAll(RoutingChecks.all());
        all.addAll(GroupChecks.collectives());
        all.addAll(GroupChecks.models(fixtures));
        return all;
    }

    private static void record(List<CheckReport> results, TckOptions options, CheckReport r) {
        results.add(r);
        if (options.out() != null) options.out().println(r.line());
    }

    private static int count(List<CheckReport> results, Outcome o) {
        return (int) results.stream().filter(r -> r.outcome() == o).count();
    }

    /** Runs one check; whatever it throws becomes a failure with the exception as the message. */
    static CheckReport runOne(Check c, TckContext ctx) {
        long t0 = System.nanoTime();
        Measurement m;
        Outcome outcome;
        try {
            ctx.exercised(true);
            if (ctx.options().dump() != null) Dump.start();
            m = c.body().run(ctx);
            outcome = m.passed() ? Outcome.PASSED : Outcome.FAILED;
        } catch (Check.Skip s) {
            m = new Measurement(Double.NaN, Double.NaN, false, s.getMessage());
            outcome = Outcome.SKIPPED;
        } catch (Exception | AssertionError | LinkageError | StackOverflowError e) {
            m = new Measurement(Double.NaN, Double.NaN, false, "threw " + e);
            outcome = Outcome.FAILED;
        }
        double seconds = Math.round((System.nanoTime() - t0) / 1e6) / 1000.0;
        var recorded = Dump.stop();
        CheckReport report = new CheckReport(c.category(), c.name(), m.measured(), m.tolerance(), outcome, m.message(), seconds, ctx.exercised(true));
        if (outcome == Outcome.FAILED && ctx.options().dump() != null) {
            Path folder = Dump.write(ctx.options().dump(), report, ctx.options().seed(), recorded);
            report = new CheckReport(report.category(), report.name(), report.measured(), report.tolerance(), outcome,
                    report.message() + " [dumped to " + folder + "]", seconds, report.backend());
        }
        return report;
    }

    /** The provider of that name on Floe's path or the plugin path, or null; two of one name are an error. */
    static BackendProvider find(String name) {
        List<Providers.Found<BackendProvider>> named = Providers.backends().stream().filter(f -> f.name().equals(name)).toList();
        return named.isEmpty() ? null : Providers.unique(named).provider();
    }

    private static List<String> installed() {
        return Providers.backends().stream().map(Providers.Found::name).toList();
    }

    /** The Floe checkout: the option, else the folder above the built-in model, else null (then the kit's own copy). */
    static Path findRoot(TckOptions options) {
        if (options.root() != null) return options.root();
        try {
            return FloeEngine.findBuiltIn().getParent().getParent();
        } catch (RuntimeException e) {
            return null;
        }
    }
}
