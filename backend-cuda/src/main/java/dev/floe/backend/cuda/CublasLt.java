package dev.floe.backend.cuda;

import dev.floe.spi.BackendException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * cuBLASLt 13 ({@code libcublasLt.so.13}) through {@code java.lang.foreign}: the prefill GEMMs in BF16 and FP8
 * with float32 output, on the backend's stream. One handle, descriptors and the heuristic's algorithm cached per
 * {@link GemmPlan}. A grouped call (one GEMM per expert) issues the experts' GEMMs back to back on the stream.
 *
 * <p>{@link #lookup()} answers "unavailable: reason" when the library is missing, which is how it is tested on
 * machines without CUDA 13.
 */
final class CublasLt implements AutoCloseable {
    static final String LIBRARY = "libcublasLt.so.13";
    static final String PATH_PROPERTY = "floe.cublaslt.path";

    // cublasLtMatmulDescAttributes_t
    static final int DESC_TRANSA = 3;
    static final int DESC_TRANSB = 4;
    static final int DESC_A_SCALE_POINTER = 17;
    static final int DESC_B_SCALE_POINTER = 18;
    // cublasLtMatmulPreferenceAttributes_t
    static final int PREF_MAX_WORKSPACE_BYTES = 1;
    /** sizeof(cublasLtMatmulHeuristicResult_t): algo (8 x uint64), workspaceSize, state, wavesCount, reserved[4]. */
    static final long HEURISTIC_RESULT_BYTES = 96;

    private final NativeLibrary library;
    private final MethodHandle create, destroy, version, descCreate, descDestroy, descSet, layoutCreate, layoutDestroy,
            prefCreate, prefDestroy, prefSet, heuristic, matmul;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment handle;
    private final Map<GemmPlan, Prepared> prepared = new HashMap<>();

    /** Outcome of {@link #lookup}. */
    sealed interface Lookup permits Available, Unavailable {
    }

    record Available(NativeLibrary library) implements Lookup {
    }

    record Unavailable(String reason) implements Lookup {
    }

    /** Finds the library; never throws. */
    static Lookup lookup() {
        return switch (NativeLibrary.open(LIBRARY, PATH_PROPERTY, NativeLibrary.CUDA_DIRS)) {
            case NativeLibrary.Found f -> new Available(f.library());
            case NativeLibrary.Missing m -> new Unavailable("cuBLASLt unavailable: " + m.reason());
        };
    }

    /** Binds the functions and creates a handle; the CUDA context must be current. */
    CublasLt(NativeLibrary library) {
        this.library = library;
        FunctionDescriptor status1 = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        create = library.function("cublasLtCreate", status1);
        destroy = library.function("cublasLtDestroy", status1);
        version = library.function("cublasLtGetVersion", FunctionDescriptor.of(JAVA_LONG));
        descCreate = library.function("cublasLtMatmulDescCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        descDestroy = library.function("cublasLtMatmulDescDestroy", status1);
        descSet = library.function("cublasLtMatmulDescSetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        layoutCreate = library.function("cublasLtMatrixLayoutCreate",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        layoutDestroy = library.function("cublasLtMatrixLayoutDestroy", status1);
        prefCreate = library.function("cublasLtMatmulPreferenceCreate", status1);
        prefDestroy = library.function("cublasLtMatmulPreferenceDestroy", status1);
        prefSet = library.function("cublasLtMatmulPreferenceSetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        heuristic = library.function("cublasLtMatmulAlgoGetHeuristic", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        matmul = library.function("cublasLtMatmul", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                ADDRESS, JAVA_LONG, ADDRESS));
        MemorySegment h = arena.allocate(ADDRESS);
        check("cublasLtCreate", call(create, h));
        handle = h.get(ADDRESS, 0);
    }

    /** cuBLASLt's version number, e.g. 130000. */
    long version() {
        try {
            return (long) version.invokeExact();
        } catch (Throwable t) {
            throw new BackendException("cublasLtGetVersion failed: " + t, t);
        }
    }

    /** Descriptors and the chosen algorithm of one plan. */
    private record Prepared(MemorySegment desc, MemorySegment a, MemorySegment b, MemorySegment d,
                            MemorySegment algo, long workspace) {
    }

    /** One GEMM of a group: device addresses of W, X, D and the (device) scales, 0 for none. */
    record Problem(GemmPlan plan, long weight, long activations, long out, long weightScale, long activationScale) {
    }

    /**
     * Runs {@code D = X * W^T} for each problem on {@code stream}, in order; {@code workspace} is a device buffer of
     * {@code workspaceBytes}.
     */
    void matmul(List<Problem> problems, long workspace, long workspaceBytes, long stream) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment alpha = call.allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
            MemorySegment beta = call.allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
            for (Problem p : problems) {
                Prepared prep = prepare(p.plan(), workspaceBytes);
                if (p.plan().fp8()) {
                    setPointer(prep.desc(), DESC_A_SCALE_POINTER, p.weightScale(), call);
                    setPointer(prep.desc(), DESC_B_SCALE_POINTER, p.activationScale(), call);
                }
                MemorySegment out = MemorySegment.ofAddress(p.out());
                check("cublasLtMatmul", (int) matmul.invokeExact(handle, prep.desc(), alpha,
                        MemorySegment.ofAddress(p.weight()), prep.a(), MemorySegment.ofAddress(p.activations()), prep.b(),
                        beta, out, prep.d(), out, prep.d(), prep.algo(), MemorySegment.ofAddress(workspace),
                        workspaceBytes, MemorySegment.ofAddress(stream)));
            }
        } catch (BackendException e) {
            throw e;
        } catch (Throwable t) {
            throw new BackendException("cublasLtMatmul failed: " + t, t);
        }
    }

    private Prepared prepare(GemmPlan plan, long workspaceBytes) {
        Prepared p = prepared.get(plan);
        if (p != null) return p;
        plan.unsupported().ifPresent(reason -> {
            throw new IllegalArgumentException("cuBLASLt cannot run this GEMM: " + reason);
        });
        MemorySegment out = arena.allocate(ADDRESS);
        check("cublasLtMatmulDescCreate", call3(descCreate, out, GemmPlan.COMPUTE_32F, GemmPlan.CUDA_R_32F));
        MemorySegment desc = out.get(ADDRESS, 0);
        setInt(desc, DESC_TRANSA, plan.transA());
        setInt(desc, DESC_TRANSB, plan.transB());
        MemorySegment a = layout(plan.a()), b = layout(plan.b()), d = layout(plan.d());
        MemorySegment pref = arena.allocate(ADDRESS);
        check("cublasLtMatmulPreferenceCreate", call(prefCreate, pref));
        MemorySegment prefHandle = pref.get(ADDRESS, 0);
        MemorySegment ws = arena.allocateFrom(JAVA_LONG, workspaceBytes);
        try {
            check("cublasLtMatmulPreferenceSetAttribute",
                    (int) prefSet.invokeExact(prefHandle, PREF_MAX_WORKSPACE_BYTES, ws, 8L));
            MemorySegment result = arena.allocate(HEURISTIC_RESULT_BYTES, 8);
            MemorySegment count = arena.allocate(JAVA_INT);
            check("cublasLtMatmulAlgoGetHeuristic", (int) heuristic.invokeExact(handle, desc, a, b, d, d,
                    prefHandle, 1, result, count));
            if (count.get(JAVA_INT, 0) < 1) {
                throw new BackendException("cublasLtMatmulAlgoGetHeuristic found no algorithm for " + plan);
            }
            check("cublasLtMatmulPreferenceDestroy", call(prefDestroy, prefHandle));
            p = new Prepared(desc, a, b, d, result, result.get(JAVA_LONG, 64));
        } catch (BackendException e) {
            throw e;
        } catch (Throwable t) {
            throw new BackendException("cuBLASLt plan setup failed: " + t, t);
        }
        prepared.put(plan, p);
        return p;
    }

    private MemorySegment layout(GemmPlan.Layout l) {
        MemorySegment out = arena.allocate(ADDRESS);
        try {
            check("cublasLtMatrixLayoutCreate", (int) layoutCreate.invokeExact(out, l.type(), l.rows(), l.cols(), l.ld()));
        } catch (BackendException e) {
            throw e;
        } catch (Throwable t) {
            throw new BackendException("cublasLtMatrixLayoutCreate failed: " + t, t);
        }
        return out.get(ADDRESS, 0);
    }

    private void setInt(MemorySegment desc, int attribute, int value) {
        MemorySegment v = arena.allocateFrom(JAVA_INT, value);
        attribute(desc, attribute, v, 4);
    }

    private void setPointer(MemorySegment desc, int attribute, long address, Arena call) {
        attribute(desc, attribute, call.allocateFrom(JAVA_LONG, address), 8);
    }

    private void attribute(MemorySegment desc, int attribute, MemorySegment value, long size) {
        try {
            check("cublasLtMatmulDescSetAttribute(" + attribute + ")", (int) descSet.invokeExact(desc, attribute, value, size));
        } catch (BackendException e) {
            throw e;
        } catch (Throwable t) {
            throw new BackendException("cublasLtMatmulDescSetAttribute failed: " + t, t);
        }
    }

    private static int call(MethodHandle h, MemorySegment arg) {
        try {
            return (int) h.invokeExact(arg);
        } catch (Throwable t) {
            throw new BackendException("cuBLASLt call failed: " + t, t);
        }
    }

    private static int call3(MethodHandle h, MemorySegment arg, int x, int y) {
        try {
            return (int) h.invokeExact(arg, x, y);
        } catch (Throwable t) {
            throw new BackendException("cuBLASLt call failed: " + t, t);
        }
    }

    /** {@code cublasStatus_t} names. */
    static String statusName(int status) {
        return switch (status) {
            case 0 -> "CUBLAS_STATUS_SUCCESS";
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "CUBLAS_STATUS_" + status;
        };
    }

    static void check(String call, int status) {
        if (status != 0) throw new BackendException(call + " failed: " + statusName(status) + " (" + status + ")");
    }

    String describe() {
        return library.soname() + " version " + version();
    }

    @Override
    public void close() {
        for (Prepared p : prepared.values()) {
            call(layoutDestroy, p.a());
            call(layoutDestroy, p.b());
            call(layoutDestroy, p.d());
            call(descDestroy, p.desc());
        }
        prepared.clear();
        call(destroy, handle);
        arena.close();
    }
}
