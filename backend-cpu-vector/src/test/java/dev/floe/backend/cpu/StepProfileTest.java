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
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cpu-vector.profile}: compiled plans timed step by step, per pass size, and reported; off by default. */
class StepProfileTest {
    @Test
    void timesEveryStepOfEveryRunPerPassSize() {
        Random rnd = new Random(3);
        try (Backend b = new CpuVectorProvider().open(new BackendOptions(2, Map.of(CpuVectorProvider.PROFILE, "true")))) {
            Weight q = b.weight(TestTensors.tensor("layers.0.q_proj", DType.BF16, 48, 64, TestTensors.gaussian(rnd, 48 * 64, 0.5)));
            Weight k = b.weight(TestTensors.tensor("layers.0.k_proj", DType.BF16, 16, 64, TestTensors.gaussian(rnd, 16 * 64, 0.5)));
            Buffer x = b.allocate(8 * 64), y = b.allocate(8 * 48), z = b.allocate(8 * 16), s = b.allocate(8 * 48);
            Plan plan = new Plan(List.of(new PlanOp.Matmul(x, q, y), new PlanOp.Matmul(x, k, z), new PlanOp.Add(y, y, 48, s)));
            try (CompiledPlan compiled = b.compile(plan)) {
                for (int rows : new int[]{1, 1, 1, 8, 8}) {
                    try (Step step = b.step(metadata(rows))) {
                        compiled.run(step);
                    }
                }
            }
            String report = ((CpuVectorBackend) b).profile().report();
            List<String> lines = report.lines().toList();
            assertTrue(lines.stream().anyMatch(l -> l.matches(" +1 +0 +3 .*%  matmul x2 from layers\\.0\\.q_proj 48x64 BF16")), report);
            assertTrue(lines.stream().anyMatch(l -> l.matches(" +1 +1 +3 .*%  add")), report);
            assertTrue(lines.stream().anyMatch(l -> l.matches(" +8 +0 +2 .*%  matmul x2 .*")), report);
            assertTrue(lines.stream().anyMatch(l -> l.matches(" +8 +all .*  the steps' medians summed")), report);
            assertEquals(2 + 4 + 2, lines.size(), report);
        }
    }

    @Test
    void offByDefaultAndRefusesOtherValues() {
        try (Backend b = new CpuVectorProvider().open(new BackendOptions(1, Map.of()))) {
            assertNull(((CpuVectorBackend) b).profile());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CpuVectorProvider().open(new BackendOptions(1, Map.of(CpuVectorProvider.PROFILE, "yes"))));
        assertTrue(e.getMessage().contains("cpu-vector.profile") && e.getMessage().contains("'yes'"), e.getMessage());
    }

    private static StepMetadata metadata(int rows) {
        int[] positions = new int[rows];
        for (int r = 0; r < rows; r++) positions[r] = r;
        return StepMetadata.of(new int[rows], positions, new int[rows], new int[][]{{0}}, 16, 2, 64, 10000f, false);
    }
}
