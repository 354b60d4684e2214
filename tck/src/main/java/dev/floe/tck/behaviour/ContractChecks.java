package dev.floe.tck.behaviour;

import dev.floe.spi.Backend;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.tck.Check;
import dev.floe.tck.Measurement;
import dev.floe.tck.TckContext;

import java.lang.module.ModuleDescriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Promises a backend makes beyond its kernels: the capabilities it declares before opening are those of the opened
 * backend (the runtime reads the latter, the kit's dtype checks too), it was built against an SPI this Floe runs, and
 * many instances in many threads share no mutable state.
 */
public final class ContractChecks {
    static final String CATEGORY = "behaviour";
    /** Instances and threads of the stress check, and runs per thread. */
    static final int INSTANCES = 8, RUNS = 6;

    private ContractChecks() {
    }

    public static List<Check> all() {
        return List.of(
                new Check(CATEGORY, "behaviour.capabilities.provider-equals-opened", ContractChecks::capabilitiesAgree),
                new Check(CATEGORY, "behaviour.spi-version", ctx -> spiVersion(ctx.provider(), ctx)),
                new Check(CATEGORY, "behaviour.concurrency.stress.instances=" + INSTANCES + ".threads=" + INSTANCES, ContractChecks::stress));
    }

    /** The provider's capabilities equal the opened backend's (a backend that promises less than it uses certifies less). */
    static Measurement capabilitiesAgree(TckContext ctx) {
        Set<String> declared = ids(ctx.capabilities()), opened = ids(ctx.backendCapabilities());
        if (declared.equals(opened)) return Measurement.ofCondition(true, "both " + declared);
        Set<String> onlyOpened = new TreeSet<>(opened), onlyDeclared = new TreeSet<>(declared);
        onlyOpened.removeAll(declared);
        onlyDeclared.removeAll(opened);
        return Measurement.ofCondition(false, "provider declares " + declared + ", the opened backend " + opened
                + (onlyOpened.isEmpty() ? "" : "; only when opened: " + onlyOpened) + (onlyDeclared.isEmpty() ? "" : "; only declared: " + onlyDeclared));
    }

    private static Set<String> ids(Set<Capability> caps) {
        Set<String> out = new TreeSet<>();
        for (Capability c : caps) out.add(c.id());
        return out;
    }

    /**
     * The SPI version the provider states must be this Floe's, and where its module recorded the version of
     * {@code dev.floe.spi} it was compiled against, that version's major must be the running one's: the stated
     * version alone is a default that cannot disagree, the compiled one is a fact about the jar.
     */
    public static Measurement spiVersion(BackendProvider provider, TckContext ctx) {
        int stated = provider.spiVersion();
        if (stated != BackendProvider.SPI_VERSION) {
            return Measurement.ofCondition(false, "the provider states SPI version " + stated + ", this Floe implements "
                    + BackendProvider.SPI_VERSION);
        }
        Module spi = BackendProvider.class.getModule();
        Optional<String> running = spi.isNamed() ? spi.getDescriptor().rawVersion() : Optional.empty();
        Module own = provider.getClass().getModule();
        Optional<String> compiled = !own.isNamed() ? Optional.empty() : own.getDescriptor().requires().stream()
                .filter(r -> r.name().equals("dev.floe.spi")).findFirst().flatMap(ModuleDescriptor.Requires::rawCompiledVersion);
        if (compiled.isPresent() && running.isPresent() && !major(compiled.get()).equals(major(running.get()))) {
            return Measurement.ofCondition(false, provider.name() + " was compiled against dev.floe.spi " + compiled.get()
                    + ", this Floe runs dev.floe.spi " + running.get());
        }
        return Measurement.ofCondition(true, "states SPI version " + stated + "; compiled against dev.floe.spi "
                + compiled.orElse("(not recorded)") + ", running " + running.orElse("(class path)"));
    }

    private static String major(String version) {
        int dot = version.indexOf('.');
        return dot < 0 ? version : version.substring(0, dot);
    }

    /**
     * {@value #INSTANCES} instances, one thread each, each running the kernel chain {@value #RUNS} times on inputs of its
     * own seed: every output must be bit-identical to the same seed run alone on one instance. Scratch memory or caches
     * shared between instances show up as mixed-in results.
     */
    static Measurement stress(TckContext ctx) throws Exception {
        float[][] expected = new float[INSTANCES][];
        for (int i = 0; i < INSTANCES; i++) expected[i] = Pipeline.run(ctx.backend(), seed(i));
        List<Backend> instances = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(INSTANCES);
        try {
            for (int i = 0; i < INSTANCES; i++) instances.add(ctx.openBackend());
            List<Future<Integer>> futures = new ArrayList<>();
            for (int i = 0; i < INSTANCES; i++) {
                int me = i;
                Callable<Integer> task = () -> {
                    int d = 0;
                    for (int run = 0; run < RUNS; run++) d += Pipeline.bitDifferences(expected[me], Pipeline.run(instances.get(me), seed(me)));
                    return d;
                };
                futures.add(pool.submit(task));
            }
            int differences = 0, failedThreads = 0;
            for (Future<Integer> f : futures) {
                int d = f.get(300, TimeUnit.SECONDS);
                differences += d;
                if (d > 0) failedThreads++;
            }
            return Measurement.ofMismatches(differences, INSTANCES + " instances x " + RUNS + " runs in " + INSTANCES
                    + " threads against each seed run alone" + (failedThreads > 0 ? "; " + failedThreads + " threads got other results" : ""));
        } finally {
            pool.shutdownNow();
            for (Backend b : instances) b.close();
        }
    }

    private static long seed(int instance) {
        return 0x57E55L + 7919L * instance;
    }
}
