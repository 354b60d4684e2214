package dev.floe.backend.cuda;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CublasLtTest {
    @Test
    void rowMajorGemmBecomesTransposedColumnMajor() {
        GemmPlan p = GemmPlan.rowMajor(100, 4864, 7168, GemmPlan.CUDA_R_8F_E4M3, GemmPlan.CUDA_R_32F);
        assertEquals(GemmPlan.OP_T, p.transA());
        assertEquals(GemmPlan.OP_N, p.transB());
        assertEquals(new GemmPlan.Layout(GemmPlan.CUDA_R_8F_E4M3, 7168, 4864, 7168), p.a());
        assertEquals(new GemmPlan.Layout(GemmPlan.CUDA_R_8F_E4M3, 7168, 100, 7168), p.b());
        assertEquals(new GemmPlan.Layout(GemmPlan.CUDA_R_32F, 4864, 100, 4864), p.d());
        assertTrue(p.fp8());
        assertTrue(p.unsupported().isEmpty(), p.unsupported().toString());
    }

    @Test
    void unsupportedShapesSayWhy() {
        assertTrue(GemmPlan.rowMajor(100, 4864, 7170, GemmPlan.CUDA_R_8F_E4M3, GemmPlan.CUDA_R_32F).unsupported()
                .orElseThrow().contains("7170"));
        assertTrue(GemmPlan.rowMajor(100, 36, 64, GemmPlan.CUDA_R_8F_E4M3, GemmPlan.CUDA_R_32F).unsupported()
                .orElseThrow().contains("N=36"));
        assertTrue(GemmPlan.rowMajor(100, 64, 7, GemmPlan.CUDA_R_16BF, GemmPlan.CUDA_R_32F).unsupported()
                .orElseThrow().contains("leading dimension 7"));
        assertFalse(GemmPlan.rowMajor(65, 32000, 7168, GemmPlan.CUDA_R_16BF, GemmPlan.CUDA_R_32F).unsupported().isPresent());
        assertThrows(IllegalArgumentException.class, () -> GemmPlan.rowMajor(0, 1, 1, GemmPlan.CUDA_R_16BF, GemmPlan.CUDA_R_32F));
    }

    @Test
    void plansAreCacheKeys() {
        assertEquals(GemmPlan.rowMajor(80, 64, 64, GemmPlan.CUDA_R_16BF, GemmPlan.CUDA_R_32F),
                GemmPlan.rowMajor(80, 64, 64, GemmPlan.CUDA_R_16BF, GemmPlan.CUDA_R_32F));
    }

    @Test
    void statusNames() {
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", CublasLt.statusName(15));
        var e = assertThrows(dev.floe.spi.BackendException.class, () -> CublasLt.check("cublasLtMatmul", 7));
        assertTrue(e.getMessage().contains("cublasLtMatmul") && e.getMessage().contains("INVALID_VALUE (7)"), e.getMessage());
    }

    /** On machines without CUDA 13's cuBLASLt (like the build machines) the lookup answers with the reason. */
    @Test
    void missingLibraryIsReportedUnavailable() {
        CublasLt.Lookup lookup = CublasLt.lookup();
        assumeTrue(lookup instanceof CublasLt.Unavailable, "libcublasLt.so.13 is installed here");
        String reason = assertInstanceOf(CublasLt.Unavailable.class, lookup).reason();
        assertTrue(reason.startsWith("cuBLASLt unavailable") && reason.contains("libcublasLt.so.13"), reason);
    }

    @Test
    void explicitPathThatDoesNotExistIsReported() {
        NativeLibrary.Lookup l = NativeLibrary.open("libnothing.so.1", "floe.test.nothing.path", List.of());
        assertTrue(assertInstanceOf(NativeLibrary.Missing.class, l).reason().contains("libnothing.so.1"));
        System.setProperty("floe.test.nothing.path", "/nonexistent/libnothing.so.1");
        try {
            String reason = ((NativeLibrary.Missing) NativeLibrary.open("libnothing.so.1", "floe.test.nothing.path", List.of())).reason();
            assertTrue(reason.contains("/nonexistent/libnothing.so.1"), reason);
        } finally {
            System.clearProperty("floe.test.nothing.path");
        }
    }

    @Test
    void aPresentLibraryIsFound() {
        // libc is everywhere: proves the positive path of the lookup without CUDA
        NativeLibrary.Lookup l = NativeLibrary.open("libc.so.6", null, List.of());
        NativeLibrary lib = assertInstanceOf(NativeLibrary.Found.class, l).library();
        assertEquals("libc.so.6", lib.soname());
        assertThrows(IllegalStateException.class, () -> lib.function("no_such_function_here",
                java.lang.foreign.FunctionDescriptor.ofVoid()));
    }
}
