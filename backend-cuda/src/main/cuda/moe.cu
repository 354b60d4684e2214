// Decode-path MoE kernels.
//
// expert_swiglu_*: h[r][j] = silu(x[r] . W1[j] * s1(j)) * (x[r] . W3[j] * s3(j)) in one pass: a warp owns
// expert-row j and streams W1[j] and W3[j] with 16-byte loads against up to MV_ROWS activation rows, so the
// gate and up projections and the SwiGLU never round-trip through memory.
//
// router_topk: per token, softmax over the experts' logits in float32, then the k largest probabilities (ties
// to the lower expert index), optionally renormalised to sum to 1. One warp per token.
#include "common.cuh"

#define MV_WARPS 4
#define MV_ROWS 8

template <int DT>
__device__ __forceinline__ void dot_rows(const uint8_t* wrow, const float* xb, int nr, int cols, int lane,
                                         float* acc) {
    constexpr int B = Elem<DT>::BYTES;
    constexpr int PER = 16 / B;
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
}

// grid (ceil(width/MV_WARPS), ceil(rows/MV_ROWS)), MV_WARPS*32 threads; h is [rows, width]
template <int DT>
__device__ __forceinline__ void expert_swiglu_impl(const float* __restrict__ x, int rows,
                                                   const uint8_t* __restrict__ w1, const float* __restrict__ s1,
                                                   const uint8_t* __restrict__ w3, const float* __restrict__ s3,
                                                   int scaleStride, float* __restrict__ h, int width, int cols) {
    constexpr int B = Elem<DT>::BYTES;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int j = blockIdx.x * MV_WARPS + warp;
    int r0 = blockIdx.y * MV_ROWS;
    if (j >= width || r0 >= rows) return;
    int nr = min(MV_ROWS, rows - r0);
    const float* xb = x + (size_t)r0 * cols;
    float g[MV_ROWS], u[MV_ROWS];
#pragma unroll
    for (int r = 0; r < MV_ROWS; r++) { g[r] = 0.0f; u[r] = 0.0f; }
    dot_rows<DT>(w1 + (size_t)j * cols * B, xb, nr, cols, lane, g);
    dot_rows<DT>(w3 + (size_t)j * cols * B, xb, nr, cols, lane, u);
    float sg = row_scale(s1, scaleStride, j), su = row_scale(s3, scaleStride, j);
#pragma unroll
    for (int r = 0; r < MV_ROWS; r++) {
        float gv = warp_sum(g[r]) * sg;
        float uv = warp_sum(u[r]) * su;
        if (lane == 0 && r < nr) h[(size_t)(r0 + r) * width + j] = silu(gv) * uv;
    }
}

#define EXPERT_SWIGLU(NAME, DT)                                                                              \
    extern "C" __global__ void __launch_bounds__(MV_WARPS * 32)                                              \
        NAME(const float* x, int rows, const uint8_t* w1, const float* s1, const uint8_t* w3, const float* s3, \
             int scaleStride, float* h, int width, int cols) {                                               \
        expert_swiglu_impl<DT>(x, rows, w1, s1, w3, s3, scaleStride, h, width, cols);                        \
    }
EXPERT_SWIGLU(expert_swiglu_f32, DT_F32)
EXPERT_SWIGLU(expert_swiglu_f16, DT_F16)
EXPERT_SWIGLU(expert_swiglu_bf16, DT_BF16)
EXPERT_SWIGLU(expert_swiglu_e4m3, DT_E4M3)
EXPERT_SWIGLU(expert_swiglu_e5m2, DT_E5M2)

#define ROUTER_MAX_K 32

// grid ceil(rows / 4), 128 threads (a warp per token); indices/weights are [rows, k]; k <= ROUTER_MAX_K, k <= experts
extern "C" __global__ void __launch_bounds__(128)
    router_topk(const float* __restrict__ logits, int rows, int experts, int k, int renormalize,
                int* __restrict__ indices, float* __restrict__ weights) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int r = blockIdx.x * 4 + warp;
    if (r >= rows) return;
    const float* lr = logits + (size_t)r * experts;
    float m = -INFINITY;
    for (int e = lane; e < experts; e += 32) m = fmaxf(m, lr[e]);
    m = warp_max(m);
    float sum = 0.0f;
    for (int e = lane; e < experts; e += 32) sum += expf(lr[e] - m);
    sum = warp_sum(sum);

    float picked[ROUTER_MAX_K];
    int pickedIdx[ROUTER_MAX_K];
    float total = 0.0f;
    for (int t = 0; t < k; t++) {
        // best not-yet-picked logit of this lane, then across the warp; ties go to the lower index
        float best = -INFINITY;
        int bestIdx = 0x7fffffff;
        for (int e = lane; e < experts; e += 32) {
            bool taken = false;
            for (int u = 0; u < t; u++) taken |= pickedIdx[u] == e;
            float v = lr[e];
            if (!taken && (v > best || (v == best && e < bestIdx))) { best = v; bestIdx = e; }
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(FULL_MASK, best, o);
            int oi = __shfl_xor_sync(FULL_MASK, bestIdx, o);
            if (ov > best || (ov == best && oi < bestIdx)) { best = ov; bestIdx = oi; }
        }
        float p = expf(best - m) / sum;
        if (t < ROUTER_MAX_K) { picked[t] = p; pickedIdx[t] = bestIdx; }
        total += p;
    }
    if (lane == 0) {
        for (int t = 0; t < k; t++) {
            indices[(size_t)r * k + t] = pickedIdx[t];
            weights[(size_t)r * k + t] = renormalize ? picked[t] / total : picked[t];
        }
    }
}
