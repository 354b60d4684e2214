package dev.floe.backend.cpu.jmh;

import dev.floe.backend.cpu.CpuVectorProvider;
import dev.floe.backend.cpu.TestTensors;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Map;
import java.util.Random;

/**
 * One layer's attention for a whole prompt through the backend's public {@code attention}: {@code positions} rows
 * of one sequence at positions 0.. (causal), peer-cpu's heads (16 query, 4 KV, head_dim 128), 16-position blocks.
 * {@code multiplyAdds} counts q.k and p.v: 2 x heads x head_dim per position attended.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class PromptAttentionBenchmark {
    private static final int HEADS = 16, KV_HEADS = 4, D = 128, BLOCK = 16;
    @Param({"256", "512"})
    public int positions;
    /** Backend worker threads (0: one per processor). */
    @Param({"2"})
    public int threads;

    private Backend backend;
    private KvCache cache;
    private Buffer q, out;
    private AttentionBatch batch;
    private long multiplyAdds;

    @Setup(Level.Trial)
    public void open() {
        backend = new CpuVectorProvider().open(new BackendOptions(threads, Map.of()));
        int blocks = (positions + BLOCK - 1) / BLOCK;
        cache = backend.kvCache(new KvLayout(1, KV_HEADS, D, blocks, BLOCK));
        Random rnd = new Random(1);
        int[] table = new int[blocks], slots = new int[positions], at = new int[positions];
        for (int b = 0; b < blocks; b++) table[b] = b;
        for (int p = 0; p < positions; p++) slots[p] = at[p] = p;
        try (Buffer k = upload(TestTensors.gaussian(rnd, positions * KV_HEADS * D, 1));
             Buffer v = upload(TestTensors.gaussian(rnd, positions * KV_HEADS * D, 1))) {
            backend.storeKv(cache, 0, k, v, positions, slots);
        }
        q = upload(TestTensors.gaussian(rnd, positions * HEADS * D, 1));
        out = backend.allocate((long) positions * HEADS * D);
        batch = AttentionBatch.single(HEADS, at, table);
        multiplyAdds = 2L * HEADS * D * ((long) positions * (positions + 1) / 2);
    }

    private Buffer upload(float[] data) {
        Buffer b = backend.allocate(data.length);
        backend.upload(data, 0, b, 0, data.length);
        return b;
    }

    @TearDown(Level.Trial)
    public void close() {
        q.close();
        out.close();
        cache.close();
        backend.close();
    }

    @Benchmark
    public void attention(Counters counters) {
        backend.attention(q, cache, 0, batch, out);
        backend.synchronize();
        counters.multiplyAdds += multiplyAdds;
    }
}
