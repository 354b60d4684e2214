package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Weight;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Batch-1 decode of the {@code peer-cpu} geometry (8 layers, hidden 2048, 16/4 heads of 128, 16 experts x 1408 top-2,
 * residual MLP 2048, vocab 32000) driven straight through the backend's kernels with random weights, run by hand:
 * <pre>
 * java --add-modules jdk.incubator.vector -cp api/target/classes:spi/target/classes:backend-cpu-vector/target/classes:backend-cpu-vector/target/test-classes \
 *      dev.floe.backend.cpu.DecodeBench [threads=0] [tokens=64] [BF16|F8_E4M3 ...]
 * </pre>
 * {@code -DwarmSeconds=6} sets the decode warm-up before timing, {@code -DbackendWarmup=0} the backend's own
 * ({@link CpuVectorProvider#WARMUP}).
 * It issues the kernel sequence of an Arctic layer (the runtime's graph may differ in detail, not in bytes read) and
 * reports tokens/s, the GB of weights read per token, and the memory bandwidth measured right before and after.
 * Speeds are comparable to the peers in {@code shared/PEERS.md} (llama.cpp BF16: 55 tokens/s, 77-81 at full
 * bandwidth).
 */
public final class DecodeBench {
    static final int LAYERS = 8, HIDDEN = 2048, HEADS = 16, KV_HEADS = 4, HEAD_DIM = 128, EXPERTS = 16, EXPERT_WIDTH = 1408,
            TOP_K = 2, RESIDUAL_WIDTH = 2048, VOCAB = 32000, CONTEXT = 1024;

    record Layer(Weight norm1, Weight q, Weight k, Weight v, Weight o, Weight norm2, Weight r1, Weight r3, Weight r2,
                 Weight router, Weight[] e1, Weight[] e3, Weight[] e2) {
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        List<DType> types = new ArrayList<>();
        for (int i = 2; i < args.length; i++) types.add(DType.valueOf(args[i]));
        if (types.isEmpty()) types = List.of(DType.BF16, DType.F8_E4M3);
        int n = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        for (DType dtype : types) {
            try (Arena arena = Arena.ofShared(); Backend b = new CpuVectorProvider().open(new BackendOptions(n,
                    Map.of(CpuVectorProvider.WARMUP, System.getProperty("backendWarmup", "0"))))) {
                run(b, arena, dtype, n, tokens);
            }
        }
    }

    private static void run(Backend b, Arena arena, DType dtype, int threads, int tokens) {
        Random rnd = new Random(7);
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l < LAYERS; l++) {
            Weight[] e1 = new Weight[EXPERTS], e3 = new Weight[EXPERTS], e2 = new Weight[EXPERTS];
            for (int e = 0; e < EXPERTS; e++) {
                e1[e] = w(b, arena, dtype, EXPERT_WIDTH, HIDDEN, rnd);
                e3[e] = w(b, arena, dtype, EXPERT_WIDTH, HIDDEN, rnd);
                e2[e] = w(b, arena, dtype, HIDDEN, EXPERT_WIDTH, rnd);
            }
            layers.add(new Layer(norm(b, arena), w(b, arena, dtype, HEADS * HEAD_DIM, HIDDEN, rnd),
                    w(b, arena, dtype, KV_HEADS * HEAD_DIM, HIDDEN, rnd), w(b, arena, dtype, KV_HEADS * HEAD_DIM, HIDDEN, rnd),
                    w(b, arena, dtype, HIDDEN, HEADS * HEAD_DIM, rnd), norm(b, arena),
                    w(b, arena, dtype, RESIDUAL_WIDTH, HIDDEN, rnd), w(b, arena, dtype, RESIDUAL_WIDTH, HIDDEN, rnd),
                    w(b, arena, dtype, HIDDEN, RESIDUAL_WIDTH, rnd), w(b, arena, DType.F32, EXPERTS, HIDDEN, rnd), e1, e3, e2));
        }
        Weight embed = w(b, arena, dtype, VOCAB, HIDDEN, rnd);
        Weight finalNorm = norm(b, arena);
        Weight lmHead = w(b, arena, dtype, VOCAB, HIDDEN, rnd);
        int bytes = dtype.bytes();
        long perToken = (long) LAYERS * bytes * ((long) HIDDEN * HEADS * HEAD_DIM * 2 + 2L * HIDDEN * KV_HEADS * HEAD_DIM
                + 3L * HIDDEN * RESIDUAL_WIDTH + TOP_K * 3L * HIDDEN * EXPERT_WIDTH) + (long) VOCAB * HIDDEN * bytes
                + (long) LAYERS * EXPERTS * HIDDEN * 4;

        KvCache cache = b.kvCache(new KvLayout(LAYERS, KV_HEADS, HEAD_DIM, CONTEXT / 16, 16));
        int[] table = new int[CONTEXT / 16];
        for (int i = 0; i < table.length; i++) table[i] = i;
        Buffer x = b.allocate(HIDDEN), h = b.allocate(HIDDEN), q = b.allocate(HEADS * HEAD_DIM);
        Buffer k = b.allocate(KV_HEADS * HEAD_DIM), v = b.allocate(KV_HEADS * HEAD_DIM), att = b.allocate(HEADS * HEAD_DIM);
        Buffer g = b.allocate(Math.max(EXPERT_WIDTH, RESIDUAL_WIDTH)), u = b.allocate(Math.max(EXPERT_WIDTH, RESIDUAL_WIDTH));
        Buffer y = b.allocate(HIDDEN), logitsBuf = b.allocate(VOCAB), routerBuf = b.allocate(EXPERTS);
        float[] logits = new float[VOCAB], router = new float[EXPERTS];

        int token = 1;
        // The Vector API runs boxed until C2 has compiled the kernels, and the compiler threads compete with the
        // kernels for the two cores: warm up for a few seconds, then measure right after a bandwidth figure.
        long warmUntil = System.nanoTime() + (long) (Double.parseDouble(System.getProperty("warmSeconds", "6")) * 1e9);
        int warm = -1;
        double bwBefore = 0;
        long t0 = 0;
        for (int pos = 0; warm < 0 || pos < warm + tokens; pos++) {
            if (warm < 0 && (System.nanoTime() > warmUntil || pos == CONTEXT - tokens)) {
                warm = pos;
                bwBefore = MemoryBandwidth.measure(threads, 1L << 30, 2);
                t0 = System.nanoTime();
                matmulNanos = 0;
                attentionNanos = 0;
            }
            b.embed(embed, new int[]{token}, x);
            for (int l = 0; l < LAYERS; l++) {
                Layer L = layers.get(l);
                b.rmsNorm(x, L.norm1(), 1e-5f, 1, HIDDEN, h);
                matmul(b, h, L.q(), q);
                matmul(b, h, L.k(), k);
                matmul(b, h, L.v(), v);
                b.rope(q, 1, HEADS, HEAD_DIM, new int[]{pos}, 1e6f);
                b.rope(k, 1, KV_HEADS, HEAD_DIM, new int[]{pos}, 1e6f);
                b.storeKv(cache, l, k, v, 1, new int[]{pos});
                long a0 = System.nanoTime();
                b.attention(q, cache, l, AttentionBatch.single(HEADS, new int[]{pos}, table), att);
                attentionNanos += System.nanoTime() - a0;
                matmul(b, att, L.o(), y);
                b.add(x, y, HIDDEN, x);
                b.rmsNorm(x, L.norm2(), 1e-5f, 1, HIDDEN, h);
                matmul(b, h, L.r1(), g);
                matmul(b, h, L.r3(), u);
                b.swiglu(g, u, RESIDUAL_WIDTH, g);
                matmul(b, g, L.r2(), y);
                b.add(x, y, HIDDEN, x);
                matmul(b, h, L.router(), routerBuf);
                b.download(routerBuf, 0, router, 0, EXPERTS);
                int first = argmax(router, -1), second = argmax(router, first);
                for (int e : new int[]{first, second}) {
                    matmul(b, h, L.e1()[e], g);
                    matmul(b, h, L.e3()[e], u);
                    b.swiglu(g, u, EXPERT_WIDTH, g);
                    matmul(b, g, L.e2()[e], y);
                    b.scatterAddRows(y, HIDDEN, new int[]{0}, new float[]{0.5f}, x);
                }
            }
            b.rmsNorm(x, finalNorm, 1e-5f, 1, HIDDEN, h);
            matmul(b, h, lmHead, logitsBuf);
            b.download(logitsBuf, 0, logits, 0, VOCAB);
            token = argmax(logits, -1);
        }
        double sec = (System.nanoTime() - t0) * 1e-9;
        double bwAfter = MemoryBandwidth.measure(threads, 1L << 30, 2);
        double tps = tokens / sec;
        System.out.printf(Locale.ROOT, "%s: %d threads, %.3f GB/token, %.1f tokens/s (%.1f GB/s of weights) | bandwidth %.1f before,"
                        + " %.1f after | MBU %.0f%% of the larger%n", dtype, threads, perToken / 1e9, tps, perToken * tps / 1e9,
                bwBefore, bwAfter, 100 * perToken * tps / 1e9 / Math.max(bwBefore, bwAfter));
        System.out.printf(Locale.ROOT, "    time in matmul %.0f%% (%.1f GB/s while in it), attention %.0f%%%n",
                100 * matmulNanos * 1e-9 / sec, perToken * tokens / (matmulNanos * 1e-9) / 1e9, 100 * attentionNanos * 1e-9 / sec);
    }

    /** Time spent in matmul and attention since the measurement started. */
    private static long matmulNanos, attentionNanos;

    private static void matmul(Backend b, Buffer x, Weight w, Buffer y) {
        long t = System.nanoTime();
        b.matmul(x, 1, w, y);
        matmulNanos += System.nanoTime() - t;
    }

    private static int argmax(float[] a, int skip) {
        int best = -1;
        for (int i = 0; i < a.length; i++) if (i != skip && (best < 0 || a[i] > a[best])) best = i;
        return best;
    }

    private static Weight w(Backend b, Arena arena, DType dtype, int rows, int cols, Random rnd) {
        if (dtype == DType.F32) {
            MemorySegment s = arena.allocate(4L * rows * cols, 64);
            for (long i = 0; i < (long) rows * cols; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) rnd.nextGaussian() * 0.02f);
            return b.weight(new TensorData("router", DType.F32, new long[]{rows, cols}, s, null));
        }
        return b.weight(MatvecBench.tensor(arena, dtype, rows, cols, rnd));
    }

    private static Weight norm(Backend b, Arena arena) {
        MemorySegment s = arena.allocate(4L * HIDDEN, 64);
        for (int i = 0; i < HIDDEN; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, 1f);
        return b.weight(new TensorData("norm", DType.F32, new long[]{HIDDEN}, s, null));
    }
}
