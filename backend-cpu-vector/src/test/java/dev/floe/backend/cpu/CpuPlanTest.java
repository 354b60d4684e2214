package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.CompiledPlan;
import dev.floe.spi.Plan;
import dev.floe.spi.PlanOp;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;
import dev.floe.spi.Weight;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A compiled plan's fused matmuls (three weights reading one input, one pool job) give the bits of eager matmuls,
 * below the GEMM's threshold and from it on (tasks of whole panels, a partial last panel, a column tail).
 */
class CpuPlanTest {
    private static final int COLS = 200;
    private static final int[] OUT = {150, 64, 70};

    @ParameterizedTest
    @ValueSource(ints = {5, 40})
    void fusedMatmulsGiveTheEagerBits(int rows) {
        Random rnd = new Random(rows);
        float[] xs = TestTensors.gaussian(rnd, rows * COLS, 1);
        try (Backend b = new CpuVectorProvider().open(new BackendOptions(2, Map.of()))) {
            Weight[] w = new Weight[OUT.length];
            Buffer[] planned = new Buffer[OUT.length], eager = new Buffer[OUT.length];
            for (int i = 0; i < OUT.length; i++) {
                w[i] = b.weight(TestTensors.tensor("w" + i, DType.BF16, OUT[i], COLS, TestTensors.gaussian(rnd, OUT[i] * COLS, 0.5)));
                planned[i] = b.allocate((long) rows * OUT[i]);
                eager[i] = b.allocate((long) rows * OUT[i]);
            }
            Buffer x = b.allocate((long) rows * COLS);
            b.upload(xs, 0, x, 0, xs.length);
            Plan plan = new Plan(List.of(new PlanOp.Matmul(x, w[0], planned[0]), new PlanOp.Matmul(x, w[1], planned[1]),
                    new PlanOp.Matmul(x, w[2], planned[2])));
            int[] tokens = new int[rows], positions = new int[rows];
            for (int r = 0; r < rows; r++) positions[r] = r;
            int[][] tables = {java.util.stream.IntStream.range(0, (rows + 15) / 16).toArray()};
            StepMetadata m = StepMetadata.of(tokens, positions, new int[rows], tables, 16, 2, 64, 10000f, false);
            try (CompiledPlan compiled = b.compile(plan); Step step = b.step(m)) {
                compiled.run(step);
            }
            for (int i = 0; i < OUT.length; i++) {
                b.matmul(x, rows, w[i], eager[i]);
                float[] p = new float[rows * OUT[i]], e = new float[rows * OUT[i]];
                b.download(planned[i], 0, p, 0, p.length);
                b.download(eager[i], 0, e, 0, e.length);
                for (int j = 0; j < p.length; j++) {
                    int weight = i, at = j;
                    assertEquals(Float.floatToRawIntBits(e[j]), Float.floatToRawIntBits(p[j]), () -> "weight " + weight + " output " + at);
                }
            }
        }
    }
}
