package dev.floe.backend.opencl;

import dev.floe.api.DType;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendException;
import dev.floe.spi.Buffer;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;
import dev.floe.spi.Weight;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static dev.floe.backend.opencl.OpenClTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** Misuse becomes an exception that names the argument and value; device failures name the call and code. */
class ErrorTest extends OpenClTest {

    private static <T extends Throwable> void assertMessage(Class<T> type, String fragment, Runnable call) {
        T e = assertThrows(type, call::run);
        assertTrue(e.getMessage().contains(fragment), () -> "message '" + e.getMessage() + "' lacks '" + fragment + "'");
    }

    @Test
    void sizesThatDoNotFitNameTheArgument() {
        try (Weight w = backend.weight(tensor("proj", DType.F16, new long[]{4, 8}, new float[32]));
             Buffer small = backend.allocate(7); Buffer out = backend.allocate(8); Buffer tiny = backend.allocate(3)) {
            assertMessage(IllegalArgumentException.class, "argument x", () -> backend.matmul(small, 1, w, out));
            assertMessage(IllegalArgumentException.class, "argument out", () -> backend.matmul(out, 1, w, tiny));
            assertMessage(IllegalArgumentException.class, "matmul: out must not alias x",
                    () -> backend.matmul(out, 1, w, out));
            assertMessage(IllegalArgumentException.class, "ids[0] = token id 4 is outside the 4 rows of proj",
                    () -> backend.embed(w, new int[]{4}, out));
            assertMessage(IllegalArgumentException.class, "dim is 7",
                    () -> backend.rmsNorm(small, w, 1e-5f, 1, 7, small));
            assertMessage(IllegalArgumentException.class, "rows[0] = 3",
                    () -> backend.gatherRows(small, 2, new int[]{3}, out));
            assertMessage(IllegalArgumentException.class, "upload: dst",
                    () -> backend.upload(new float[8], 0, small, 0, 8));
            assertMessage(IllegalArgumentException.class, "headDim must be even",
                    () -> backend.rope(out, 1, 1, 3, new int[]{0}, 1e4f));
        }
    }

    @Test
    void attentionChecksEveryIndexItWouldRead() {
        KvLayout layout = new KvLayout(1, 1, 4, 4, 2);
        try (KvCache cache = backend.kvCache(layout); Buffer q = backend.allocate(8); Buffer out = backend.allocate(8)) {
            assertMessage(IllegalArgumentException.class, "needs block 2",
                    () -> backend.attention(q, cache, 0, AttentionBatch.single(1, new int[]{4}, new int[]{0, 1}), out));
            assertMessage(IllegalArgumentException.class, "blockTables[0][1] = 9",
                    () -> backend.attention(q, cache, 0, AttentionBatch.single(1, new int[]{3}, new int[]{0, 9}), out));
            assertMessage(IllegalArgumentException.class, "layer 1",
                    () -> backend.attention(q, cache, 1, AttentionBatch.single(1, new int[]{0}, new int[]{0}), out));
            assertMessage(IllegalArgumentException.class, "multiple of kvHeads",
                    () -> backend.attention(q, new KvCacheOf(backend, new KvLayout(1, 2, 4, 4, 2)).cache, 0,
                            AttentionBatch.single(3, new int[]{0}, new int[]{0}), out));
            assertMessage(IllegalArgumentException.class, "slots[0] = 8",
                    () -> backend.storeKv(cache, 0, q, q, 1, new int[]{8}));
        }
    }

    /** Holds a cache for the duration of a lambda (closed with the backend). */
    private record KvCacheOf(KvCache cache) {
        KvCacheOf(Backend b, KvLayout layout) {
            this(b.kvCache(layout));
        }
    }

    @Test
    void closedAndForeignResourcesAreRefused() {
        Buffer closed = backend.allocate(4);
        closed.close();
        try (Buffer ok = backend.allocate(4)) {
            assertMessage(IllegalStateException.class, "closed", () -> backend.add(closed, ok, 4, ok));
            try (Backend other = new OpenClProvider().open(dev.floe.spi.BackendOptions.DEFAULTS);
                 Buffer foreign = other.allocate(4)) {
                assertMessage(IllegalArgumentException.class, "argument b", () -> backend.add(ok, foreign, 4, ok));
            }
        }
    }

    @Test
    void stepsAreCountedFreedAndRefusedOnceClosedOrForeign() {
        StepMetadata m = StepMetadata.of(new int[]{1, 2}, new int[]{0, 1}, new int[]{0, 0}, new int[][]{{0}}, 4,
                2, 4, 10000f, false);
        try (Buffer x = backend.allocate(16)) {
            long before = backend.memoryInUse();
            Step step = backend.step(m);
            assertTrue(backend.memoryInUse() > before, "the step's device memory is counted");
            step.close();
            step.close();
            assertEquals(before, backend.memoryInUse(), "closing the step frees its memory, once");
            assertMessage(IllegalStateException.class, "argument step: the step of 2 rows is closed",
                    () -> backend.rope(x, 2, step));
            try (Backend other = new OpenClProvider().open(dev.floe.spi.BackendOptions.DEFAULTS);
                 Step foreign = other.step(m)) {
                assertMessage(IllegalArgumentException.class, "is not a step of this opencl backend",
                        () -> backend.rope(x, 2, foreign));
            }
            try (Step live = backend.step(m)) {
                assertMessage(IllegalArgumentException.class, "argument x", () -> backend.rope(x, 3, live));
            }
        }
    }

    @Test
    void theDispatchCounterCountsEachKernelLaunch() {
        try (Buffer a = backend.allocate(8)) {
            long before = backend.dispatches();
            backend.add(a, a, 8, a);
            backend.swiglu(a, a, 8, a);
            assertEquals(before + 2, backend.dispatches());
        }
    }

    @Test
    void closingTheBackendFreesEverythingAndIsIdempotent() {
        Backend b = new OpenClProvider().open(dev.floe.spi.BackendOptions.DEFAULTS);
        Buffer buf = b.allocate(100);
        b.kvCache(new KvLayout(1, 1, 4, 2, 2));
        assertTrue(b.memoryInUse() >= 400);
        b.close();
        b.close();
        assertEquals(0, b.memoryInUse());
        buf.close();   // after the backend: nothing left to free, no error
        assertThrows(IllegalStateException.class, () -> b.allocate(1));
        assertThrows(IllegalStateException.class, b::synchronize);
    }

    @Test
    void unsupportedWeightsNameTheTensor() {
        var ints = new TensorData("ids", DType.I32, new long[]{2}, MemorySegment.ofArray(new byte[8]), null);
        assertMessage(IllegalArgumentException.class, "weight ids: dtype I32", () -> backend.weight(ints));
        var badScale = tensor("q", DType.F8_E4M3, new long[]{3, 2}, new float[6])
                .withScale(f32Scale("q.scale", new float[]{1, 2}));
        assertMessage(ModelFormatException.class, "tensor q.scale: shape [2] does not fit q [3, 2]", () -> backend.weight(badScale));
    }

    @Test
    void openClErrorsNameTheCallAndTheCode() {
        // A fresh backend, so that the kernel has never had its arguments set.
        try (OpenClBackend fresh = (OpenClBackend) new OpenClProvider().open(dev.floe.spi.BackendOptions.DEFAULTS)) {
            BackendException e = assertThrows(BackendException.class, () -> fresh.launch("swiglu").run(1));
            assertTrue(e.getMessage().contains("clEnqueueNDRangeKernel(swiglu)"), e.getMessage());
            assertTrue(e.getMessage().contains("CL_INVALID_KERNEL_ARGS (-52)"), e.getMessage());

            BackendException missing = assertThrows(BackendException.class, () -> fresh.launch("no_such_kernel"));
            assertTrue(missing.getMessage().contains("clCreateKernel(no_such_kernel) failed: CL_INVALID_KERNEL_NAME"),
                    missing.getMessage());
        }
    }

    @Test
    void aBuildFailureCarriesTheBuildLog() {
        try (OpenClBackend fresh = (OpenClBackend) new OpenClProvider().open(dev.floe.spi.BackendOptions.DEFAULTS)) {
            BackendException e = assertThrows(BackendException.class, () -> new ClProgram(fresh.context(),
                    fresh.clDevice(), "__kernel void broken(__global float *x) { x[0] = undeclared_name; }"));
            assertTrue(e.getMessage().contains("CL_BUILD_PROGRAM_FAILURE (-11)"), e.getMessage());
            assertTrue(e.getMessage().contains("undeclared_name"), "the build log names the culprit: " + e.getMessage());
        }
    }

    @Test
    void statusCodesHaveTheirNames() {
        assertEquals("CL_INVALID_KERNEL_ARGS (-52)", ClErrors.describe(-52));
        assertEquals("CL_PLATFORM_NOT_FOUND_KHR (-1001)", ClErrors.describe(-1001));
        assertEquals("CL_UNKNOWN_ERROR (-9999)", ClErrors.describe(-9999));
        assertDoesNotThrow(() -> ClErrors.check(0, "clFinish"));
        assertEquals("clFinish failed: CL_OUT_OF_RESOURCES (-5)",
                assertThrows(BackendException.class, () -> ClErrors.check(-5, "clFinish")).getMessage());
    }
}
