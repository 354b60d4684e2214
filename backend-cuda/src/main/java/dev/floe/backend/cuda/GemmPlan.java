package dev.floe.backend.cuda;

import java.util.Optional;

/**
 * The cuBLASLt description of a row-major GEMM {@code D[M][N] = X[M][K] * W[N][K]^T} (activations times a
 * weight stored {@code [out, in]}), computed without the library so that it can be tested.
 *
 * <p>cuBLASLt is column-major. A row-major {@code [M][N]} matrix is a column-major {@code N x M} matrix with
 * leading dimension N, so we compute {@code D^T (N x M) = W (N x K) * X^T (K x M)}: A is the weight, seen
 * column-major as {@code K x N} (ld K) and transposed; B is the activations, column-major {@code K x M} (ld K), not
 * transposed; D is {@code N x M} (ld N). That is the "TN" form Hopper's FP8 kernels require.
 *
 * @param m       activation rows (tokens)
 * @param n       output features (weight rows)
 * @param k       input features
 * @param input   the data type of A and B
 * @param output  the data type of C and D
 * @param a       layout of the weight
 * @param b       layout of the activations
 * @param d       layout of the output (also used for C, with beta 0)
 */
record GemmPlan(long m, long n, long k, int input, int output, Layout a, Layout b, Layout d) {
    /** {@code cudaDataType} values. */
    static final int CUDA_R_32F = 0;
    static final int CUDA_R_16F = 2;
    static final int CUDA_R_16BF = 14;
    static final int CUDA_R_8F_E4M3 = 28;
    static final int CUDA_R_8F_E5M2 = 29;
    /** {@code cublasComputeType_t} CUBLAS_COMPUTE_32F. */
    static final int COMPUTE_32F = 68;
    /** {@code cublasOperation_t}. */
    static final int OP_N = 0;
    static final int OP_T = 1;

    /** A column-major matrix layout: type, rows, columns, leading dimension (all in elements). */
    record Layout(int type, long rows, long cols, long ld) {
    }

    static GemmPlan rowMajor(long m, long n, long k, int input, int output) {
        if (m < 1 || n < 1 || k < 1) throw new IllegalArgumentException("GEMM sizes must be positive: m=" + m + " n=" + n + " k=" + k);
        return new GemmPlan(m, n, k, input, output,
                new Layout(input, k, n, k), new Layout(input, k, m, k), new Layout(output, n, m, n));
    }

    int transA() {
        return OP_T;
    }

    int transB() {
        return OP_N;
    }

    static int bytes(int type) {
        return switch (type) {
            case CUDA_R_32F -> 4;
            case CUDA_R_16F, CUDA_R_16BF -> 2;
            case CUDA_R_8F_E4M3, CUDA_R_8F_E5M2 -> 1;
            default -> throw new IllegalArgumentException("unknown cudaDataType " + type);
        };
    }

    boolean fp8() {
        return input == CUDA_R_8F_E4M3 || input == CUDA_R_8F_E5M2;
    }

    /**
     * Why cuBLASLt would refuse this problem, if it would: every leading dimension must be a multiple of 16 bytes,
     * and FP8 needs K and N to be multiples of 16.
     */
    Optional<String> unsupported() {
        for (Layout l : new Layout[]{a, b, d}) {
            if (l.ld() * bytes(l.type()) % 16 != 0) {
                return Optional.of("leading dimension " + l.ld() + " of a " + l.rows() + "x" + l.cols()
                        + " operand is not a multiple of 16 bytes");
            }
        }
        if (fp8() && (k % 16 != 0 || n % 16 != 0)) {
            return Optional.of("FP8 GEMM needs K and N to be multiples of 16, got K=" + k + " N=" + n);
        }
        return Optional.empty();
    }
}
