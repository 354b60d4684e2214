package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Probe;
import dev.floe.spi.Weight;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Discovery, probe, capabilities, memory accounting, lifecycle and argument checks. */
class BackendContractTest {
    @Test
    void foundByServiceLoaderAndAvailable() {
        // the tests are patched into the backend module, which provides but does not use the service
        BackendContractTest.class.getModule().addUses(BackendProvider.class);
        BackendProvider p = ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(x -> x.name().equals("cpu-vector")).findFirst().orElseThrow();
        Probe probe = p.probe();
        assertTrue(probe.available(), probe.detail());
        assertTrue(probe.detail().contains("FloatVector") && probe.detail().contains("threads"), probe.detail());
        assertTrue(p.capabilities().containsAll(java.util.EnumSet.of(Capability.WEIGHTS_F32, Capability.WEIGHTS_F16,
                Capability.WEIGHTS_BF16, Capability.WEIGHTS_FP8_E4M3, Capability.WEIGHTS_FP8_E5M2,
                Capability.ZERO_COPY_WEIGHTS, Capability.MULTI_THREADED)));
        try (Backend b = p.open(BackendOptions.DEFAULTS)) {
            assertEquals("cpu-vector", b.name());
            assertTrue(b.device().contains(Runtime.getRuntime().availableProcessors() + " thread"), b.device());
        }
    }

    @Test
    void warmupOptionRunsTheKernelsAndLeavesNothingBehind() {
        long t0 = System.nanoTime();
        try (Backend b = new CpuVectorProvider().open(new BackendOptions(2, Map.of(CpuVectorProvider.WARMUP, "0.2")))) {
            assertTrue(System.nanoTime() - t0 >= 200_000_000L, "warm-up took its time");
            assertEquals(0, b.memoryInUse());
        }
        var e = assertThrows(IllegalArgumentException.class,
                () -> new CpuVectorProvider().open(new BackendOptions(1, Map.of(CpuVectorProvider.WARMUP, "soon"))));
        assertTrue(e.getMessage().contains("soon"), e.getMessage());
    }

    @Test
    void memoryInUseCountsBuffersAndCachesNotWeights() {
        try (Backend b = new CpuVectorProvider().open(new BackendOptions(1, Map.of()))) {
            assertEquals(0, b.memoryInUse());
            Buffer x = b.allocate(100);
            KvLayout layout = new KvLayout(2, 2, 8, 3, 4);
            KvCache c = b.kvCache(layout);
            Weight w = b.weight(TestTensors.tensor("w", DType.BF16, 4, 8, new float[32]));
            assertEquals(400 + layout.byteSize(), b.memoryInUse());
            x.close();
            x.close();
            assertEquals(layout.byteSize(), b.memoryInUse());
            c.close();
            w.close();
            assertEquals(0, b.memoryInUse());
        }
    }

    @Test
    void closedResourcesAreRefused() {
        Backend b = new CpuVectorProvider().open(new BackendOptions(2, Map.of()));
        Buffer x = b.allocate(8);
        Buffer y = b.allocate(8);
        x.close();
        assertThrows(IllegalStateException.class, () -> b.add(x, y, 8, y));
        Weight w = b.weight(TestTensors.tensor("w", DType.F32, 2, 4, new float[8]));
        w.close();
        assertThrows(IllegalStateException.class, () -> b.matmul(y, 1, w, y));
        b.close();
        b.close();
        assertThrows(IllegalStateException.class, () -> b.allocate(4));
        assertThrows(IllegalStateException.class, () -> b.download(y, 0, new float[8], 0, 8));
        assertEquals(0, b.memoryInUse());
    }

    @Test
    void badArgumentsNameTheArgument() {
        try (Backend b = new CpuVectorProvider().open(new BackendOptions(2, Map.of()))) {
            Weight table = b.weight(TestTensors.tensor("embed_tokens", DType.BF16, 10, 4, new float[40]));
            Buffer out = b.allocate(8);
            var e = assertThrows(IllegalArgumentException.class, () -> b.embed(table, new int[]{3, 10}, out));
            assertTrue(e.getMessage().contains("10") && e.getMessage().contains("embed_tokens"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> b.embed(table, new int[]{-1}, out));
            assertTrue(e.getMessage().contains("-1"), e.getMessage());

            Weight w = b.weight(TestTensors.tensor("proj", DType.F8_E4M3, 6, 4, new float[24]));
            e = assertThrows(IllegalArgumentException.class, () -> b.matmul(out, 3, w, b.allocate(18)));
            assertTrue(e.getMessage().startsWith("x:"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> b.matmul(out, 2, w, b.allocate(11)));
            assertTrue(e.getMessage().startsWith("out:"), e.getMessage());

            try (Backend other = new CpuVectorProvider().open(new BackendOptions(1, Map.of()))) {
                Buffer foreign = other.allocate(8);
                e = assertThrows(IllegalArgumentException.class, () -> b.add(foreign, out, 8, out));
                assertTrue(e.getMessage().startsWith("a:"), e.getMessage());
            }

            KvCache cache = b.kvCache(new KvLayout(1, 2, 4, 2, 4));
            Buffer kv = b.allocate(8);
            e = assertThrows(IllegalArgumentException.class, () -> b.storeKv(cache, 0, kv, kv, 1, new int[]{8}));
            assertTrue(e.getMessage().contains("slots[0] = 8"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> b.storeKv(cache, 1, kv, kv, 1, new int[]{0}));
            Buffer q = b.allocate(16);
            e = assertThrows(IllegalArgumentException.class,
                    () -> b.attention(q, cache, 0, AttentionBatch.single(3, new int[]{0}, new int[]{0}), q));
            assertTrue(e.getMessage().contains("heads"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> b.attention(q, cache, 0, AttentionBatch.single(2, new int[]{4}, new int[]{0}), b.allocate(16)));
            assertTrue(e.getMessage().contains("positions[0] = 4"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> b.attention(q, cache, 0, AttentionBatch.single(2, new int[]{0}, new int[]{5}), b.allocate(16)));
            assertTrue(e.getMessage().contains("blockTables[0][0] = 5"), e.getMessage());

            Weight norm = b.weight(TestTensors.tensor("norm", DType.F32, 0, 4, new float[4]));
            e = assertThrows(IllegalArgumentException.class, () -> b.rmsNorm(out, norm, 1e-5f, 1, 8, out));
            assertTrue(e.getMessage().startsWith("w:"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> b.upload(new float[4], 0, out, 6, 4));
            assertThrows(IllegalArgumentException.class, () -> b.gatherRows(out, 4, new int[]{2}, out));
            assertThrows(IllegalArgumentException.class, () -> b.allocate(-1));

            TensorData ids = new TensorData("ids", DType.I64, new long[]{2},
                    java.lang.foreign.MemorySegment.ofArray(new byte[16]), null);
            assertThrows(IllegalArgumentException.class, () -> b.weight(ids));
        }
    }
}
