// The MoE block on the device (SPI 2's Backend.moe): routing, the chosen experts' SwiGLU MLPs and the weighted
// combine, with nothing read back by the host.
#include "common.cuh"

#define MV_WARPS 4

// This lane's share of wrow . x (cols elements), with 16-byte weight loads where rows allow.
template <int DT>
__device__ __forceinline__ float dot_row(const uint8_t* wrow, const float* x, int cols, int lane) {
    constexpr int B = Elem<DT>::BYTES;
    constexpr int PER = 16 / B;
    float acc = 0.0f;
    if (((size_t)cols * B) % 16 == 0) {
        // unrolled so that several 16-byte weight loads are in flight per lane (memory-level parallelism)
#pragma unroll 4
        for (int c = lane * PER; c < cols; c += 32 * PER) {
            uint4 raw = __ldg(reinterpret_cast<const uint4*>(wrow + (size_t)c * B));
            float wv[PER];
            Elem<DT>::unpack(raw, wv);
            const float4* xr = reinterpret_cast<const float4*>(x + c);
#pragma unroll
            for (int q = 0; q < PER / 4; q++) {
                float4 xv = __ldg(xr + q);
                acc = fmaf(wv[4 * q], xv.x, acc);
                acc = fmaf(wv[4 * q + 1], xv.y, acc);
                acc = fmaf(wv[4 * q + 2], xv.z, acc);
                acc = fmaf(wv[4 * q + 3], xv.w, acc);
            }
        }
    } else {
        for (int c = lane; c < cols; c += 32) acc = fmaf(Elem<DT>::at(wrow, c), x[c], acc);
    }
    return acc;
}

#define ROUTER_MAX_K 32

// ---- SPI 2: the MoE block on the device (Backend.moe). The host never learns which experts a row chose unless a
// MoeTrace asks: routing writes ids/weights [rows, k] to device memory, the expert kernels look each chosen
// expert's weights up in per-call pointer tables (one 64-bit address per expert; 0 = no scale), and the combine
// adds the weighted outputs in ascending expert order (the order of the SPI 1 decomposition). An id of -1 pads a
// row that a host router gave fewer experts than k: its slot is skipped everywhere.

#define ROUTE_SOFTMAX 0
#define ROUTE_SOFTMAX_RENORM 1
#define ROUTE_SIGMOID 2

// a ranks strictly above b: larger first, NaN last; callers break equality by the lower index
__device__ __forceinline__ bool ranks_above(double a, double b) {
    if (isnan(a)) return false;
    return isnan(b) || a > b;
}

// dev.floe.api.RoutingSpec.SoftmaxTopK's probability of expert e: float32 softmax with NaN as 0, uniform when every
// logit is -inf or NaN, +inf logits sharing the mass. m is the max over numbers, sum the float32 sum in index order.
__device__ __forceinline__ float softmax_p(float l, float m, float sum, int experts, int infCount) {
    if (m == -INFINITY) return 1.0f / experts;
    if (m == INFINITY) return l == m ? 1.0f / infCount : 0.0f;
    if (isnan(l)) return 0.0f;
    return __fdiv_rn((float)exp((double)(l - m)), sum);
}

// grid ceil(rows / 4), 128 threads (a warp per token). mode: ROUTE_*; bias: double[experts] for ROUTE_SIGMOID.
// Reproduces RoutingSpec.route: the same experts in the same order (ties to the lower index); the float32 sums are
// taken in index order by lane 0, as the Java reference does.
extern "C" __global__ void __launch_bounds__(128)
    moe_route(const float* __restrict__ logits, int rows, int experts, int k, int mode, const double* __restrict__ bias,
              int* __restrict__ ids, float* __restrict__ weights) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int r = blockIdx.x * 4 + warp;
    if (r >= rows) return;
    const float* lr = logits + (size_t)r * experts;
    bool sigmoid = mode == ROUTE_SIGMOID;
    float m = -INFINITY, sum = 0.0f;
    int infCount = 0;
    if (!sigmoid) {
        for (int e = lane; e < experts; e += 32) if (lr[e] > m) m = lr[e];
        m = warp_max(m);
        if (lane == 0) {
            for (int e = 0; e < experts; e++) {
                if (lr[e] == INFINITY) infCount++;
                if (m != -INFINITY && m != INFINITY && !isnan(lr[e])) sum = __fadd_rn(sum, (float)exp((double)(lr[e] - m)));
            }
        }
        sum = __shfl_sync(FULL_MASK, sum, 0);
        infCount = __shfl_sync(FULL_MASK, infCount, 0);
    }
    int pickedIdx[ROUTER_MAX_K];
    for (int t = 0; t < k; t++) {
        double best = 0.0;
        int bestIdx = -1;
        for (int e = lane; e < experts; e += 32) {
            bool taken = false;
            for (int u = 0; u < t; u++) taken |= pickedIdx[u] == e;
            if (taken) continue;
            double key;
            if (sigmoid) {
                key = isnan(lr[e]) ? (double)NAN : 1.0 / (1.0 + exp(-(double)lr[e])) + bias[e];
            } else {
                key = (double)softmax_p(lr[e], m, sum, experts, infCount);
            }
            if (bestIdx < 0 || ranks_above(key, best)) { best = key; bestIdx = e; }
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            double ov = __shfl_xor_sync(FULL_MASK, best, o);
            int oi = __shfl_xor_sync(FULL_MASK, bestIdx, o);
            bool take = oi >= 0 && (bestIdx < 0 || ranks_above(ov, best) || (!ranks_above(best, ov) && oi < bestIdx));
            if (take) { best = ov; bestIdx = oi; }
        }
        if (t < ROUTER_MAX_K) pickedIdx[t] = bestIdx;
    }
    if (lane != 0) return;
    int* ir = ids + (size_t)r * k;
    float* wr = weights + (size_t)r * k;
    if (sigmoid) {
        double total = 0.0;
        for (int t = 0; t < k; t++) total += isnan(lr[pickedIdx[t]]) ? 0.0 : 1.0 / (1.0 + exp(-(double)lr[pickedIdx[t]]));
        for (int t = 0; t < k; t++) {
            float l = lr[pickedIdx[t]];
            double s = isnan(l) ? 0.0 : 1.0 / (1.0 + exp(-(double)l));
            ir[t] = pickedIdx[t];
            wr[t] = total > 0.0 ? (float)(s / total) : 1.0f / k;
        }
    } else {
        float total = 0.0f;
        for (int t = 0; t < k; t++) {
            ir[t] = pickedIdx[t];
            wr[t] = softmax_p(lr[pickedIdx[t]], m, sum, experts, infCount);
            total = __fadd_rn(total, wr[t]);
        }
        if (mode == ROUTE_SOFTMAX_RENORM && total > 0.0f)
            for (int t = 0; t < k; t++) wr[t] = __fdiv_rn(wr[t], total);
    }
}

// The expert kernels, moe_up (h[p][j] = silu(x[row] . W1[j] * s1(j)) * (x[row] . W3[j] * s3(j)), h is
// [rows*k, width]) and moe_down (y[p][o] = h[p] . W2[o] * s2(o), y is [rows*k, hidden]): grid
// (ceil(out/MV_WARPS), rows*k), MV_WARPS*32 threads; block column p is (row p/k, its p%k-th choice, expert ids[p]),
// each warp one output row of that expert. Both are one expert_kernel around a dot product of one expert row: with a
// scale per row or tensor (expert_dot, per weight format) or with FP8 block scales (expert_block_dot).

// The pair and output row of this warp; false when it has nothing to do (past the end, or a padding id of -1).
__device__ __forceinline__ bool expert_slot(int rows, int k, const int* ids, int outRows, int& out, int& p, int& e) {
    out = blockIdx.x * MV_WARPS + (threadIdx.x >> 5);
    p = blockIdx.y;
    if (p >= rows * k || out >= outRows) return false;
    e = ids[p];
    return e >= 0;
}

// W[row] . v of expert e, scaled by its row's (or the tensor's) scale: summed over the warp, valid in every lane.
template <int DT>
struct ExpertDot {
    int scaleStride;
    __device__ __forceinline__ float operator()(const unsigned long long* ws, const unsigned long long* ss, int e,
                                                int row, const float* v, int cols, int lane) const {
        const uint8_t* w = reinterpret_cast<const uint8_t*>(ws[e]) + (size_t)row * cols * Elem<DT>::BYTES;
        return warp_sum(dot_row<DT>(w, v, cols, lane)) * row_scale(reinterpret_cast<const float*>(ss[e]), scaleStride, row);
    }
};

// The same for an FP8 expert with a grid of block scales, applied to each element before the product.
struct ExpertBlockDot {
    int e5m2, blockRows, blockCols;
    __device__ __forceinline__ float operator()(const unsigned long long* ws, const unsigned long long* ss, int e,
                                                int row, const float* v, int cols, int lane) const {
        const float* s = block_scales(reinterpret_cast<const float*>(ss[e]), row, blockRows, blockCols, cols);
        return warp_sum(block_dot(reinterpret_cast<const uint8_t*>(ws[e]) + (size_t)row * cols, s, blockCols, v, cols,
                                  lane, e5m2));
    }
};

template <typename Dot>
__device__ __forceinline__ void moe_up_impl(const Dot& dot, const float* __restrict__ x, int rows, int k,
                                            const int* __restrict__ ids, const unsigned long long* w1s,
                                            const unsigned long long* s1s, const unsigned long long* w3s,
                                            const unsigned long long* s3s, float* __restrict__ h, int width, int cols) {
    int j, p, e, lane = threadIdx.x & 31;
    if (!expert_slot(rows, k, ids, width, j, p, e)) return;
    const float* xr = x + (size_t)(p / k) * cols;
    float gv = dot(w1s, s1s, e, j, xr, cols, lane), uv = dot(w3s, s3s, e, j, xr, cols, lane);
    if (lane == 0) h[(size_t)p * width + j] = silu(gv) * uv;
}

template <typename Dot>
__device__ __forceinline__ void moe_down_impl(const Dot& dot, const float* __restrict__ h, int rows, int k,
                                              const int* __restrict__ ids, const unsigned long long* w2s,
                                              const unsigned long long* s2s, float* __restrict__ y, int hidden,
                                              int width) {
    int o, p, e, lane = threadIdx.x & 31;
    if (!expert_slot(rows, k, ids, hidden, o, p, e)) return;
    float v = dot(w2s, s2s, e, o, h + (size_t)p * width, width, lane);
    if (lane == 0) y[(size_t)p * hidden + o] = v;
}

#define MOE_EXPERT(DT, SUFFIX)                                                                                   \
    extern "C" __global__ void __launch_bounds__(MV_WARPS * 32)                                                  \
        moe_up_##SUFFIX(const float* x, int rows, int k, const int* ids, const unsigned long long* w1s,          \
                        const unsigned long long* s1s, const unsigned long long* w3s,                            \
                        const unsigned long long* s3s, int scaleStride, float* h, int width, int cols) {         \
        moe_up_impl(ExpertDot<DT>{scaleStride}, x, rows, k, ids, w1s, s1s, w3s, s3s, h, width, cols);            \
    }                                                                                                            \
    extern "C" __global__ void __launch_bounds__(MV_WARPS * 32)                                                  \
        moe_down_##SUFFIX(const float* h, int rows, int k, const int* ids, const unsigned long long* w2s,        \
                          const unsigned long long* s2s, int scaleStride, float* y, int hidden, int width) {     \
        moe_down_impl(ExpertDot<DT>{scaleStride}, h, rows, k, ids, w2s, s2s, y, hidden, width);                  \
    }
MOE_EXPERT(DT_F32, f32)
MOE_EXPERT(DT_F16, f16)
MOE_EXPERT(DT_BF16, bf16)
MOE_EXPERT(DT_E4M3, e4m3)
MOE_EXPERT(DT_E5M2, e5m2)

// FP8 experts with block scales (every expert of the bank with the same block size): the scale tables hold grids.
extern "C" __global__ void __launch_bounds__(MV_WARPS * 32)
    moe_up_block_fp8(const float* x, int rows, int k, const int* ids, const unsigned long long* w1s,
                     const unsigned long long* s1s, const unsigned long long* w3s, const unsigned long long* s3s,
                     int e5m2, int blockRows, int blockCols, float* h, int width, int cols) {
    moe_up_impl(ExpertBlockDot{e5m2, blockRows, blockCols}, x, rows, k, ids, w1s, s1s, w3s, s3s, h, width, cols);
}

extern "C" __global__ void __launch_bounds__(MV_WARPS * 32)
    moe_down_block_fp8(const float* h, int rows, int k, const int* ids, const unsigned long long* w2s,
                       const unsigned long long* s2s, int e5m2, int blockRows, int blockCols, float* y, int hidden,
                       int width) {
    moe_down_impl(ExpertBlockDot{e5m2, blockRows, blockCols}, h, rows, k, ids, w2s, s2s, y, hidden, width);
}

// one thread per (row, column) of dst: dst[r][o] += weights[r][t] * y[r*k+t][o] over the row's k choices in
// ascending expert index (equal ids in slot order), sequentially, as the decomposition adds them.
extern "C" __global__ void moe_combine(const float* __restrict__ y, int rows, int k, const int* __restrict__ ids,
                                       const float* __restrict__ weights, int hidden, float* __restrict__ dst) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)rows * hidden) return;
    int r = (int)(i / hidden), o = (int)(i % hidden);
    const int* ir = ids + (size_t)r * k;
    float acc = dst[i];
    int last = -1, lastSlot = -1;
    for (int n = 0; n < k; n++) {
        // the next choice after (last, lastSlot) in (expert, slot) order
        int pick = -1;
        for (int t = 0; t < k; t++) {
            bool after = ir[t] > last || (ir[t] == last && t > lastSlot);
            if (ir[t] >= 0 && after && (pick < 0 || ir[t] < ir[pick])) pick = t;
        }
        if (pick < 0) break;
        acc = __fadd_rn(acc, __fmul_rn(weights[(size_t)r * k + pick], y[((size_t)r * k + pick) * hidden + o]));
        last = ir[pick];
        lastSlot = pick;
    }
    dst[i] = acc;
}
