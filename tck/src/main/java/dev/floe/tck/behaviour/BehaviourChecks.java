package dev.floe.tck.behaviour;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.Session;
import dev.floe.api.ModelConfig;
import dev.floe.runtime.checkpoint.Checkpoint;
import dev.floe.runtime.config.ConfigReader;
import dev.floe.runtime.model.FloeModel;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Weight;
import dev.floe.tck.Check;
import dev.floe.tck.Measurement;
import dev.floe.tck.TckContext;
import dev.floe.tck.model.ModelChecks;
import dev.floe.tck.oracle.OracleWeight;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What the numbers cannot show: determinism, the threading contract (one thread per backend instance, any number of
 * instances; a model serialises its passes), resource release, and the error contract.
 */
public final class BehaviourChecks {
    static final String CATEGORY = "behaviour";
    /** Open/close cycles of the resource checks. */
    static final int CYCLES = 50;
    private static final long SEED = 0xB0BAL;

    private BehaviourChecks() {
    }

    public static List<Check> all() {
        List<Check> c = new ArrayList<>();
        c.add(check("behaviour.determinism.kernels", BehaviourChecks::determinism));
        c.add(check("behaviour.determinism.model", BehaviourChecks::modelDeterminism));
        c.add(check("behaviour.concurrency.two-backends", BehaviourChecks::twoBackends));
        c.add(check("behaviour.concurrency.two-sessions-of-one-model", ctx -> concurrentModels(ctx, true)));
        c.add(check("behaviour.concurrency.two-models", ctx -> concurrentModels(ctx, false)));
        c.add(check("behaviour.concurrency.sessions-and-models", BehaviourChecks::sessionsAndModels));
        c.add(check("behaviour.memory.close-frees", BehaviourChecks::closeFrees));
        c.add(check("behaviour.memory.allocate-close-cycles", BehaviourChecks::allocationCycles));
        c.add(check("behaviour.memory.model-open-close-cycles", BehaviourChecks::modelCycles));
        ErrorContract.all().forEach(c::add);
        return c;
    }

    private static Check check(String name, Check.Body body) {
        return new Check(CATEGORY, name, body);
    }

    /** The same chain twice on one instance and once on a fresh one: identical bits. */
    static Measurement determinism(TckContext ctx) {
        float[] first = Pipeline.run(ctx.backend(), SEED), second = Pipeline.run(ctx.backend(), SEED);
        float[] fresh;
        try (Backend other = ctx.openBackend()) {
            fresh = Pipeline.run(other, SEED);
        }
        int d = Pipeline.bitDifferences(first, second) + Pipeline.bitDifferences(first, fresh);
        return Measurement.ofMismatches(d, first.length + " outputs, twice on one instance and once on a fresh one");
    }

    private static Path smallestModel(TckContext ctx) {
        if (ctx.fixtures().isEmpty()) throw new Check.Skip("no model folder to load (no Floe checkout and no --fixture)");
        return ctx.fixtures().getFirst();
    }

    private static final int[] PROMPT = {1, 5, 9, 2, 7, 3, 11, 4};

    /**
     * The same prompt through 20 sessions one after the other: identical logits every time (while the JIT compiles
     * the kernels underneath, which must not change a reduction order).
     */
    static Measurement modelDeterminism(TckContext ctx) {
        try (FloeModel model = ModelChecks.load(ctx, smallestModel(ctx))) {
            float[][] first = prefill(model, PROMPT);
            int d = 0;
            double worst = 0;
            for (int run = 1; run < 20; run++) {
                float[][] again = prefill(model, PROMPT);
                for (int i = 0; i < first.length; i++) d += Pipeline.bitDifferences(first[i], again[i]);
                worst = Math.max(worst, dev.floe.runtime.golden.GoldenChecks.relativeError(again, first));
            }
            return Measurement.ofMismatches(d, first.length + " rows of logits, 20 sessions in sequence; largest relative difference " + worst);
        }
    }

    private static float[][] prefill(FloeModel model, int[] ids) {
        try (Session s = model.newSession(ids.length + 1)) {
            return s.prefill(ids);
        }
    }

    /** Two instances, one thread each, running the chain repeatedly: the single-threaded bits every time. */
    static Measurement twoBackends(TckContext ctx) throws Exception {
        float[] expected = Pipeline.run(ctx.backend(), SEED);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (Backend a = ctx.openBackend(); Backend b = ctx.openBackend()) {
            List<Future<Integer>> futures = new ArrayList<>();
            for (Backend backend : List.of(a, b)) {
                futures.add(pool.submit(() -> {
                    int d = 0;
                    for (int i = 0; i < 10; i++) d += Pipeline.bitDifferences(expected, Pipeline.run(backend, SEED));
                    return d;
                }));
            }
            int d = 0;
            for (Future<Integer> f : futures) d += f.get(120, TimeUnit.SECONDS);
            return Measurement.ofMismatches(d, "2 instances x 10 runs in parallel threads");
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Two threads prefilling at once, through two sessions of one model (which serialises its passes) or through two
     * models (two backend instances): each gets the logits it gets alone.
     */
    static Measurement concurrentModels(TckContext ctx, boolean oneModel) throws Exception {
        Path dir = smallestModel(ctx);
        int[] other = {3, 3, 8, 1};
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (FloeModel one = ModelChecks.load(ctx, dir); FloeModel two = oneModel ? null : ModelChecks.load(ctx, dir)) {
            FloeModel second = oneModel ? one : two;
            float[][] p = prefill(one, PROMPT), q = prefill(second, other);
            List<Future<Integer>> futures = new ArrayList<>();
            futures.add(pool.submit(() -> repeat(one, PROMPT, p)));
            futures.add(pool.submit(() -> repeat(second, other, q)));
            int d = 0;
            for (Future<Integer> f : futures) d += f.get(120, TimeUnit.SECONDS);
            return Measurement.ofMismatches(d, "2 threads x 5 prefills of " + dir.getFileName()
                    + (oneModel ? ", two sessions of one model" : ", two models") + "; measured: logits that differ");
        } finally {
            pool.shutdownNow();
        }
    }

    /** Two sessions of one model and a session of a second model, in three threads at once. */
    static Measurement sessionsAndModels(TckContext ctx) throws Exception {
        Path dir = smallestModel(ctx);
        int[] other = {3, 3, 8, 1};
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try (FloeModel one = ModelChecks.load(ctx, dir); FloeModel two = ModelChecks.load(ctx, dir)) {
            float[][] p = prefill(one, PROMPT), q = prefill(one, other);
            List<Future<Integer>> futures = new ArrayList<>();
            futures.add(pool.submit(() -> repeat(one, PROMPT, p)));
            futures.add(pool.submit(() -> repeat(one, other, q)));
            futures.add(pool.submit(() -> repeat(two, PROMPT, p)));
            int d = 0;
            for (Future<Integer> f : futures) d += f.get(120, TimeUnit.SECONDS);
            return Measurement.ofMismatches(d, "3 threads x 5 prefills of " + dir.getFileName()
                    + " (two sessions of one model, one of another); measured: logits that differ");
        } finally {
            pool.shutdownNow();
        }
    }

    private static int repeat(FloeModel model, int[] ids, float[][] expected) {
        int d = 0;
        for (int i = 0; i < 5; i++) {
            float[][] got = prefill(model, ids);
            for (int r = 0; r < got.length; r++) d += Pipeline.bitDifferences(expected[r], got[r]);
            if (d > 0) {
                throw new IllegalStateException(d + " logits differ from the single-threaded run, largest relative difference "
                        + dev.floe.runtime.golden.GoldenChecks.relativeError(got, expected));
            }
        }
        return d;
    }

    /** Buffers, weights and caches raise memoryInUse; closing them brings it back to where it started. */
    static Measurement closeFrees(TckContext ctx) {
        try (Backend b = ctx.openBackend()) {
            long start = b.memoryInUse();
            long during = allocateSome(b, held -> { });
            long after = b.memoryInUse();
            boolean grew = during > start;
            return new Measurement(Math.abs(after - start), 0, grew && after == start,
                    "memoryInUse " + start + " -> " + during + " while held -> " + after + " after close" + (grew ? "" : " (did not grow while held)"));
        }
    }

    /** Allocates a buffer, an F32 weight and a KV cache, reports memoryInUse while held, closes them. */
    private static long allocateSome(Backend b, Consumer<Backend> whileHeld) {
        float[] w = new float[64 * 33];
        try (Buffer buf = b.allocate(10_007); Weight weight = b.weight(OracleWeight.ofFloats("tck.memory", 64, 33, w).tensor(false));
             KvCache cache = b.kvCache(new KvLayout(2, 2, 16, 8, 16))) {
            whileHeld.accept(b);
            return b.memoryInUse();
        }
    }

    /** 50 allocate/close cycles: memoryInUse back to its start after each, and no thread leak. */
    static Measurement allocationCycles(TckContext ctx) {
        try (Backend b = ctx.openBackend()) {
            long start = b.memoryInUse();
            long worst = 0;
            for (int i = 0; i < CYCLES; i++) {
                allocateSome(b, x -> { });
                worst = Math.max(worst, Math.abs(b.memoryInUse() - start));
            }
            return Measurement.ofError(worst, 0, CYCLES + " cycles; largest difference from the starting memoryInUse " + start + ": " + worst + " bytes");
        }
    }

    /**
     * 50 cycles of a model's device memory on one backend instance, then 50 model open/close cycles. Each placement
     * cycle puts every tensor of the smallest model's checkpoint on the backend as a weight, with a KV cache of the
     * model's shape, and closes them: memoryInUse must grow while they are held and come back to its starting value
     * after each close. (A fresh backend per cycle could not show memory that close fails to free: each instance
     * counts only its own.) The model cycles must leave no threads behind.
     */
    static Measurement modelCycles(TckContext ctx) {
        Path dir = smallestModel(ctx);
        long start, held = -1, worst = 0;
        try (Backend b = ctx.openBackend(); Checkpoint checkpoint = Checkpoint.open(dir)) {
            ModelConfig config = ConfigReader.read(dir);
            KvLayout kv = new KvLayout(config.numLayers(), config.numKvHeads(), config.headDim(), 4, 16);
            start = b.memoryInUse();
            for (int i = 0; i < CYCLES; i++) {
                List<AutoCloseable> placed = new ArrayList<>();
                try {
                    for (String name : checkpoint.names()) {
                        if (!isScaleOfAnother(checkpoint, name)) placed.add(b.weight(checkpoint.tensor(name)));
                    }
                    placed.add(b.kvCache(kv));
                    if (held < 0) held = b.memoryInUse();
                    worst = Math.max(worst, Math.abs(b.memoryInUse() - held));
                } finally {
                    closeAll(placed);
                }
                worst = Math.max(worst, Math.abs(b.memoryInUse() - start));
            }
        }
        int threadsBefore = Thread.activeCount();
        for (int i = 0; i < CYCLES; i++) {
            try (FloeModel m = ModelChecks.load(ctx, dir)) {
                m.deviceMemory();
            }
        }
        int threadGrowth = Math.max(0, Thread.activeCount() - threadsBefore);
        boolean grew = held > start;
        return new Measurement(worst, 0, worst == 0 && grew && threadGrowth <= 2, CYCLES + " cycles of "
                + dir.getFileName() + "'s weights and KV cache on one backend: memoryInUse " + start + " -> " + held
                + " while held (largest difference from start or from the first cycle " + worst + " bytes)"
                + (grew ? "" : ", did not grow while held") + "; " + CYCLES + " model open/close cycles: live threads +" + threadGrowth);
    }

    /** FP8 scales ({@code W_scale} next to {@code W}) travel with their weight. */
    private static boolean isScaleOfAnother(Checkpoint checkpoint, String name) {
        return name.endsWith("_scale") && checkpoint.contains(name.substring(0, name.length() - "_scale".length()));
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (AutoCloseable r : resources.reversed()) {
            try {
                r.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + r + " threw " + e, e);
            }
        }
    }
}
