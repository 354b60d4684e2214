package dev.floe.backend.cpu.jmh;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What a kernel benchmark did per invocation, reported by JMH as rates beside the invocation rate: multiply-adds
 * per second (compare with {@link MultiplyAddPeakBenchmark}) and weight bytes read per second (compare with the
 * memory bandwidth).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Counters {
    public long multiplyAdds;
    public long weightBytes;

    @Setup(Level.Iteration)
    public void clear() {
        multiplyAdds = 0;
        weightBytes = 0;
    }
}
