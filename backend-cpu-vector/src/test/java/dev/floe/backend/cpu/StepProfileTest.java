package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.api.RoutingSpec;
import dev.floe.spi.CompiledPlan;
import dev.floe.spi.ExpertBank;
import dev.floe.spi.MoeCall;
import dev.floe.spi.MoeRouting;
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
    void timesTheFusedMoesPhasesWithinItsStep() {
        int hidden = 64, inter = 32, experts = 4, rows = 6;
        Random rnd = new Random(4);
        try (Backend b = new CpuVectorProvider().open(new BackendOptions(2, Map.of(CpuVectorProvider.PROFILE, "true")))) {
            ExpertBank.Weights[] bank = new ExpertBank.Weights[experts];
            for (int e = 0; e < experts; e++) {
                bank[e] = new ExpertBank.Weights(
                        b.weight(TestTensors.tensor("e" + e + ".w1", DType.BF16, inter, hidden, TestTensors.gaussian(rnd, inter * hidden, 0.5))),
                        b.weight(TestTensors.tensor("e" + e + ".w2", DType.BF16, hidden, inter, TestTensors.gaussian(rnd, hidden * inter, 0.5))),
                        b.weight(TestTensors.tensor("e" + e + ".w3", DType.BF16, inter, hidden, TestTensors.gaussian(rnd, inter * hidden, 0.5))));
            }
            Weight gate = b.weight(TestTensors.tensor("gate", DType.F32, experts, hidden, TestTensors.gaussian(rnd, experts * hidden, 1)));
            Buffer x = b.allocate((long) rows * hidden), y = b.allocate((long) rows * hidden);
            b.upload(TestTensors.gaussian(rnd, rows * hidden, 1), 0, x, 0, rows * hidden);
            Plan plan = new Plan(List.of(new PlanOp.Moe(x, gate, TestTensors.bank(bank), new RoutingSpec.SoftmaxTopK(2, true), y)));
            try (CompiledPlan compiled = b.compile(plan); Step step = b.step(metadata(rows))) {
                compiled.run(step);
                compiled.run(step);
            }
            // an eager call outside any plan adds no phases
            b.moe(new MoeCall(x, rows, gate, TestTensors.bank(bank), new MoeRouting.OnDevice(new RoutingSpec.SoftmaxTopK(2, true)), y, null));
            String report = ((CpuVectorBackend) b).profile().report();
            List<String> lines = report.lines().toList();
            assertTrue(lines.stream().anyMatch(l -> l.matches(" +6 +0 +2 .*%  moe, layer 0 \\(4 experts\\)")), report);
            for (int part = 1; part <= 6; part++) {
                String p = " +6 +0\\." + part + " +2 .*%  moe: .*";
                assertTrue(lines.stream().anyMatch(l -> l.matches(p)), "phase " + part + "\n" + report);
            }
            assertEquals(2 + 7 + 1, lines.size(), report);
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
