package dev.floe.backend.cpu.jmh;

import dev.floe.backend.cpu.KernelAccess;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;

/**
 * Attention of the four query heads that share one KV head (peer-cpu's and Mixtral's grouping; head_dim 128) over
 * {@code positions} cached positions (blocks of 16), the heads together or one at a time: one thread's share of a
 * prompt's attention.
 * {@code multiplyAdds} counts q.k and p.v (2 x heads x head_dim per position).
 */
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AttentionBenchmark {
    private static final int HEADS = 4, D = 128, KV_HEADS = 4;
    @Param({"256", "512"})
    public int positions;
    /** The four heads in one call (each key vector loaded once for the four), or one call per head. */
    @Param({"true", "false"})
    public boolean together;

    private float[] q, keys, values, out;

    @Setup
    public void fill() {
        Random rnd = new Random(1);
        int rowWidth = KV_HEADS * D;
        q = new float[HEADS * D];
        int slots = (positions + 15) / 16 * 16;
        keys = new float[slots * rowWidth];
        values = new float[slots * rowWidth];
        for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < keys.length; i++) keys[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < values.length; i++) values[i] = (float) rnd.nextGaussian();
        out = new float[HEADS * D];
    }

    @Benchmark
    public float heads(Counters counters) {
        KernelAccess.attention(together, q, HEADS, keys, values, KV_HEADS * D, positions, D, out);
        counters.multiplyAdds += 2L * HEADS * D * positions;
        return out[0];
    }
}
