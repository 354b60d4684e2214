// out[r][o] = scale(o) * sum_i x[r][i] * W[o][i], float32 accumulation.
//
// matvec_*: the decode path (1..64 rows). A warp owns one output row o and streams W[o] with 16-byte loads
// (4 F32, 8 F16/BF16 or 16 FP8 elements per lane per step, 512 bytes per warp per step, fully coalesced),
// against up to MV_ROWS activation rows at a time; blockIdx.y picks the group of activation rows. Weights are
// read once per group, so batches up to 8 read them once. Rows whose byte length is not a multiple of 16 fall
// back to scalar loads.
//
// gemm_*: the prefill fallback when cuBLASLt is absent: 64x64 output tiles, K in steps of 16 through shared
// memory, 4x4 outputs per thread, weights dequantised while staged.
#include "common.cuh"

#define MV_WARPS 4
#define MV_ROWS 8

template <int DT>
__device__ __forceinline__ void matvec_impl(const float* __restrict__ x, int rows, const uint8_t* __restrict__ w,
                                            const float* __restrict__ scale, int scaleStride,
                                            float* __restrict__ out, int outRows, int cols) {
    constexpr int B = Elem<DT>::BYTES;
    constexpr int PER = 16 / B;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int o = blockIdx.x * MV_WARPS + warp;
    int r0 = blockIdx.y * MV_ROWS;
    if (o >= outRows || r0 >= rows) return;
    int nr = min(MV_ROWS, rows - r0);
    const uint8_t* wrow = w + (size_t)o * cols * B;
    const float* xb = x + (size_t)r0 * cols;
    float acc[MV_ROWS];
#pragma unroll
    for (int r = 0; r < MV_ROWS; r++) acc[r] = 0.0f;

    if (((size_t)cols * B) % 16 == 0) {
        // unrolled so that several 16-byte weight loads are in flight per lane (memory-level parallelism)
#pragma unroll 4
        for (int c = lane * PER; c < cols; c += 32 * PER) {
            uint4 raw = __ldg(reinterpret_cast<const uint4*>(wrow + (size_t)c * B));
            float wv[PER];
            Elem<DT>::unpack(raw, wv);
#pragma unroll
            for (int r = 0; r < MV_ROWS; r++) {
                if (r < nr) {
                    const float4* xr = reinterpret_cast<const float4*>(xb + (size_t)r * cols + c);
#pragma unroll
                    for (int q = 0; q < PER / 4; q++) {
                        float4 xv = __ldg(xr + q);
                        acc[r] = fmaf(wv[4 * q], xv.x, acc[r]);
                        acc[r] = fmaf(wv[4 * q + 1], xv.y, acc[r]);
                        acc[r] = fmaf(wv[4 * q + 2], xv.z, acc[r]);
                        acc[r] = fmaf(wv[4 * q + 3], xv.w, acc[r]);
                    }
                }
            }
        }
    } else {
        for (int c = lane; c < cols; c += 32) {
            float wv = Elem<DT>::at(wrow, c);
#pragma unroll
            for (int r = 0; r < MV_ROWS; r++)
                if (r < nr) acc[r] = fmaf(wv, xb[(size_t)r * cols + c], acc[r]);
        }
    }
    float s = row_scale(scale, scaleStride, o);
#pragma unroll
    for (int r = 0; r < MV_ROWS; r++) {
        float v = warp_sum(acc[r]);
        if (lane == 0 && r < nr) out[(size_t)(r0 + r) * outRows + o] = v * s;
    }
}

#define MATVEC(NAME, DT)                                                                                     \
    extern "C" __global__ void __launch_bounds__(MV_WARPS * 32)                                              \
        NAME(const float* x, int rows, const uint8_t* w, const float* scale, int scaleStride, float* out,   \
             int outRows, int cols) {                                                                        \
        matvec_impl<DT>(x, rows, w, scale, scaleStride, out, outRows, cols);                                 \
    }
MATVEC(matvec_f32, DT_F32)
MATVEC(matvec_f16, DT_F16)
MATVEC(matvec_bf16, DT_BF16)
MATVEC(matvec_e4m3, DT_E4M3)
MATVEC(matvec_e5m2, DT_E5M2)

#define GT 64
#define GK 16

// grid (ceil(outRows/64), ceil(rows/64)), 256 threads
template <int DT>
__device__ __forceinline__ void gemm_impl(const float* __restrict__ x, int rows, const uint8_t* __restrict__ w,
                                          const float* __restrict__ scale, int scaleStride,
                                          float* __restrict__ out, int outRows, int cols) {
    __shared__ float xs[GK][GT + 1];
    __shared__ float ws[GK][GT + 1];
    int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    int rowBase = blockIdx.y * GT, outBase = blockIdx.x * GT;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < cols; k0 += GK) {
        // 64 rows x 16 k = 1024 elements per operand, 4 per thread
#pragma unroll
        for (int l = 0; l < 4; l++) {
            int e = threadIdx.x + l * 256;
            int rr = e / GK, kk = e % GK;
            int k = k0 + kk;
            int xr = rowBase + rr, wr = outBase + rr;
            xs[kk][rr] = (xr < rows && k < cols) ? x[(size_t)xr * cols + k] : 0.0f;
            ws[kk][rr] = (wr < outRows && k < cols) ? Elem<DT>::at(w, (size_t)wr * cols + k) : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < GK; kk++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = xs[kk][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++) b[j] = ws[kk][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int r = rowBase + ty + 16 * i;
        if (r >= rows) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int o = outBase + tx + 16 * j;
            if (o < outRows) out[(size_t)r * outRows + o] = acc[i][j] * row_scale(scale, scaleStride, o);
        }
    }
}

#define GEMM(NAME, DT)                                                                                       \
    extern "C" __global__ void __launch_bounds__(256)                                                        \
        NAME(const float* x, int rows, const uint8_t* w, const float* scale, int scaleStride, float* out,   \
             int outRows, int cols) {                                                                        \
        gemm_impl<DT>(x, rows, w, scale, scaleStride, out, outRows, cols);                                   \
    }
GEMM(gemm_f32, DT_F32)
GEMM(gemm_f16, DT_F16)
GEMM(gemm_bf16, DT_BF16)
GEMM(gemm_e4m3, DT_E4M3)
GEMM(gemm_e5m2, DT_E5M2)

// matmul_block_fp8: FP8 weights with block scales, any number of rows. A warp owns output row o, as in matvec, and
// applies each element's block scale before the product. grid (ceil(outRows/MV_WARPS), ceil(rows/MV_ROWS)).
extern "C" __global__ void __launch_bounds__(MV_WARPS * 32)
    matmul_block_fp8(const float* __restrict__ x, int rows, const uint8_t* __restrict__ w,
                     const float* __restrict__ scale, int e5m2, int blockRows, int blockCols,
                     float* __restrict__ out, int outRows, int cols) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int o = blockIdx.x * MV_WARPS + warp;
    int r0 = blockIdx.y * MV_ROWS;
    if (o >= outRows || r0 >= rows) return;
    int nr = min(MV_ROWS, rows - r0);
    const uint8_t* wrow = w + (size_t)o * cols;
    const float* srow = block_scales(scale, o, blockRows, blockCols, cols);
    for (int r = 0; r < nr; r++) {
        float v = warp_sum(block_dot(wrow, srow, blockCols, x + (size_t)(r0 + r) * cols, cols, lane, e5m2));
        if (lane == 0) out[(size_t)(r0 + r) * outRows + o] = v;
    }
}
