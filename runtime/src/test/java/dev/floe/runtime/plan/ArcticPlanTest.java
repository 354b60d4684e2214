package dev.floe.runtime.plan;

import dev.floe.api.DType;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import dev.floe.runtime.checkpoint.Checkpoint;
import dev.floe.runtime.checkpoint.CheckpointLayout;
import dev.floe.runtime.checkpoint.SafetensorsHeader;
import dev.floe.runtime.config.ConfigReader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code floe plan}'s arithmetic on the real 480B Arctic: its config and tensor layout as sparse safetensors files
 * (real headers, data left as holes), checked against a hand calculation.
 */
class ArcticPlanTest {
    static final long H = 7168, I = 4864, V = 32000, D = 128, E = 128, L = 35;

    @TempDir
    static Path tmp;
    static Path bf16, fp8;
    static Planner planner;

    @BeforeAll
    static void writeSparseCheckpoints() throws Exception {
        Path config = Path.of(System.getProperty("floe.root", "..")).resolve("runtime/src/test/resources/arctic-instruct/config.json");
        bf16 = Files.createDirectories(tmp.resolve("arctic-bf16"));
        fp8 = Files.createDirectories(tmp.resolve("arctic-fp8"));
        ModelConfig c = ConfigReader.read(copyConfig(config, bf16));
        copyConfig(config, fp8);
        CheckpointLayout.writeSparse(bf16, c, DType.BF16);
        CheckpointLayout.writeSparse(fp8, c, DType.F8_E4M3);
        planner = Planner.open(bf16);
    }

    private static Path copyConfig(Path config, Path dir) throws Exception {
        Files.copy(config, dir.resolve("config.json"));
        return dir;
    }

    static PlanRequest request(String devices, WeightPrecision w, int tp, int ep) {
        return new PlanRequest(DeviceSpec.parse(devices), w, tp, ep, 0, 1, DType.F32, 256, 0.10);
    }

    @Test
    void theSparseFolderHoldsArcticsRealSizeInHeadersOnly() throws Exception {
        ModelConfig c = ConfigReader.read(bf16);
        List<SafetensorsHeader> headers = Checkpoint.headers(bf16);
        assertEquals(36, headers.size());
        long tensors = headers.stream().mapToLong(h -> h.tensors().size()).sum();
        assertEquals(3 + L * (2 + 4 + 1 + E * 3 + 1 + 3), tensors);
        long bytes = headers.stream().mapToLong(SafetensorsHeader::dataBytes).sum();
        long parameters = 2 * V * H + H                                   // embedding, head, final norm
                + L * (H * D * (56 + 8 + 8 + 56)                             // q, k, v, o
                + 3 * H                                                      // three norms
                + E * H                                                      // router gate
                + E * 3 * H * I                                              // experts
                + 3 * H * H);                                                // residual MLP
        assertEquals(478_584_608_768L, parameters, "478.6B parameters");
        assertEquals(parameters, c.parameterCount());
        assertEquals(2 * parameters, bytes, "957 GB of BF16: two bytes a parameter");
        long onDisk = 0;
        for (SafetensorsHeader h : headers) onDisk += Files.size(h.path());
        assertTrue(onDisk > bytes, "files have their full length");
        // and the planner reads the same headers
        assertEquals(bytes, planner.storedBytes());
    }

    /** Hand calculation: 8 devices, tp 8 (one KV head a rank), ep 8 (16 experts a rank), FP8 linear weights. */
    @Test
    void eightEightyGigabyteDevicesHoldArcticInFp8() {
        long fp8Rows = 4; // one F32 scale per output row
        long expert = 2 * (I * H + I * fp8Rows) + (H * I + H * fp8Rows);
        long experts = L * (E / 8) * expert;
        long attention = (H / 8 * H + H / 8 * fp8Rows)        // q: 7 of 56 heads
                + 2 * (D * H + D * fp8Rows)                   // k, v: 1 of 8 KV heads
                + (H * (H / 8) + H * fp8Rows);                // o: 1/8 of the columns, every row's scale
        long residual = 2 * (H / 8 * H + H / 8 * fp8Rows) + (H * (H / 8) + H * fp8Rows);
        long gateAndNorms = E * H * 2 + 3 * H * 2;
        long outer = 2 * (V / 8 * H * 2) + H * 2;
        long weights = experts + L * (attention + residual + gateAndNorms) + outer;
        long kv = 2 * L * 4096 * 1 * D * 4;                    // F32 keys and values of one KV head, 4096 tokens
        long activations = 256 * 4 * (6 * H + 2 * (56 * D / 8) + 2 * D + 2 * (H / 8) + E + 2 * 2 * H + 2 * I + V);

        for (Path dir : List.of(bf16, fp8)) {
            WeightPrecision w = dir == bf16 ? WeightPrecision.FP8 : WeightPrecision.STORED;
            MemoryPlan p = (dir == bf16 ? planner : Planner.open(dir)).plan(new ParallelLayout(8, 8), w, request("8x80GB", w, 8, 8));
            assertEquals(experts, p.weightsByCategory().get("experts"), dir.toString());
            assertEquals(L * attention, p.weightsByCategory().get("attention"));
            assertEquals(weights, p.weightBytes(), dir.toString());
            assertEquals(kv, p.kvCacheBytes());
            assertEquals(activations, p.activationBytes());
            assertEquals(72_000_000_000L, p.usableBytes());
            assertTrue(p.fits(), () -> "needs " + Bytes.gb(p.totalBytes()));
        }
        assertEquals(59_982_322_176L, weights, "the hand calculation itself: 59.98 GB a device");
    }

    @Test
    void theAdviceOnEightDevicesIsTpEightEpEight() {
        Planner.Advice a = planner.advise(request("8x80GB", WeightPrecision.FP8, 0, 0));
        assertEquals(new ParallelLayout(8, 8), a.plan().layout());
        assertTrue(a.plan().fits());
        assertTrue(a.suggestions().isEmpty());
    }

    @Test
    void fourEightyGigabyteDevicesCannotHoldArcticInBf16AndTheShortfallIsNamed() {
        Planner.Advice a = planner.advise(request("4x80GB", WeightPrecision.BF16, 4, 4));
        MemoryPlan p = a.plan();
        assertFalse(p.fits());
        long expertsPerDevice = L * (E / 4) * 3 * I * H * 2;
        assertEquals(expertsPerDevice, p.weightsByCategory().get("experts"));
        assertEquals(p.totalBytes() - 72_000_000_000L, p.shortfallBytes());
        assertTrue(p.shortfallBytes() > 160_000_000_000L, Bytes.gb(p.shortfallBytes()));
        // nothing fits on four: the fewest devices are named, in BF16 and in FP8
        assertEquals(2, a.suggestions().size());
        Planner.Suggestion inBf16 = a.suggestions().get(0), inFp8 = a.suggestions().get(1);
        assertEquals(16, inBf16.devices().count());
        assertEquals(new ParallelLayout(8, 16), inBf16.plan().layout());
        assertEquals(WeightPrecision.BF16, inBf16.plan().weights());
        assertEquals(8, inFp8.devices().count());
        assertEquals(new ParallelLayout(8, 8), inFp8.plan().layout());
        assertTrue(inBf16.plan().fits() && inFp8.plan().fits());
    }

    @Test
    void aLayoutThatFitsOnTheSameDevicesIsSuggested() {
        // tp 1 x ep 8 repeats all attention on every device; it still fits, the suggestion is the tighter layout
        Planner.Advice a = planner.advise(new PlanRequest(DeviceSpec.parse("8x64GB"), WeightPrecision.FP8, 1, 8,
                0, 1, DType.F32, 256, 0.0));
        assertFalse(a.plan().fits(), Bytes.gb(a.plan().totalBytes()));
        assertEquals(1, a.suggestions().size());
        assertEquals(8, a.suggestions().getFirst().devices().count());
        assertEquals(new ParallelLayout(8, 8), a.suggestions().getFirst().plan().layout());
    }

    @Test
    void impossibleLayoutsAreRefusedWithTheReason() {
        var e = assertThrows(InvalidRequestException.class, () -> planner.advise(request("16x80GB", WeightPrecision.BF16, 16, 16)));
        assertTrue(e.getMessage().contains("--tp 16: the 56 attention heads do not split 16 ways"), e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> planner.advise(request("8x80GB", WeightPrecision.BF16, 3, 8)));
        assertTrue(e.getMessage().contains("--tp 3 does not divide the 8 devices"), e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> planner.advise(request("6x80GB", WeightPrecision.BF16, 2, 3)));
        assertTrue(e.getMessage().contains("--ep 3: the 128 experts do not split 3 ways"), e.getMessage());
    }

    @Test
    void moreTensorRanksThanKvHeadsReplicateTheHeads() {
        PlanRequest r = request("56x80GB", WeightPrecision.BF16, 56, 8);
        MemoryPlan p = planner.plan(new ParallelLayout(56, 8), WeightPrecision.BF16, r);
        assertEquals(2 * L * 4096 * D * 4, p.kvCacheBytes(), "one whole KV head a rank");
    }

    @Test
    void devicesParse() {
        assertEquals(new DeviceSpec(8, 80_000_000_000L), DeviceSpec.parse("8x80GB"));
        assertEquals(new DeviceSpec(1, 24L << 30), DeviceSpec.parse("24GiB"));
        assertEquals(new DeviceSpec(2, 79_600_000_000L), DeviceSpec.parse("2 x 79.6GB"));
        var e = assertThrows(InvalidRequestException.class, () -> DeviceSpec.parse("eight big ones"));
        assertTrue(e.getMessage().contains("--devices: 'eight big ones'"), e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> DeviceSpec.parse("0x80GB"));
        assertTrue(e.getMessage().contains("count must be positive"), e.getMessage());
    }
}
