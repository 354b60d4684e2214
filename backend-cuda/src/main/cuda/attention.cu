// Causal attention of query rows over the paged KV cache, float32 softmax with scale 1/sqrt(headDim).
//
// One block (ATT_WARPS warps) per (query row, head). Each warp takes every ATT_WARPS-th key of the row's
// sequence (positions 0..positions[r]) and keeps an online softmax (running max, sum, and the weighted value
// accumulator, lane d holding dimensions d, d+32, ...); the warps' partial states are merged at the end. The
// slot of position p of sequence s is blockTables[s * maxBlocks + p / blockSize] * blockSize + p % blockSize.
// Query head h reads KV head h / (heads / kvHeads) (grouped-query attention). headDim <= ATT_MAX_DIM.
#include "common.cuh"

#define ATT_WARPS 4
#define ATT_MAX_DIM 256
#define ATT_PER_LANE (ATT_MAX_DIM / 32)

extern "C" __global__ void __launch_bounds__(ATT_WARPS * 32)
    paged_attention(const float* __restrict__ q, const float* __restrict__ kCache, const float* __restrict__ vCache,
                    const int* __restrict__ positions, const int* __restrict__ sequence,
                    const int* __restrict__ blockTables, int maxBlocks, int blockSize, int heads, int kvHeads,
                    int headDim, float scale, float* __restrict__ out) {
    __shared__ float qs[ATT_MAX_DIM];
    __shared__ float wm[ATT_WARPS], wl[ATT_WARPS];
    __shared__ float wacc[ATT_WARPS][ATT_MAX_DIM];

    int r = blockIdx.x, h = blockIdx.y;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int kvh = h / (heads / kvHeads);
    int width = kvHeads * headDim;
    const float* qr = q + ((size_t)r * heads + h) * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) qs[d] = qr[d];
    __syncthreads();

    int pos = positions[r];
    const int* table = blockTables + (size_t)sequence[r] * maxBlocks;
    float m = -INFINITY, l = 0.0f;
    float acc[ATT_PER_LANE];
#pragma unroll
    for (int i = 0; i < ATT_PER_LANE; i++) acc[i] = 0.0f;

    for (int p = warp; p <= pos; p += ATT_WARPS) {
        size_t slot = (size_t)table[p / blockSize] * blockSize + p % blockSize;
        const float* kr = kCache + slot * width + (size_t)kvh * headDim;
        const float* vr = vCache + slot * width + (size_t)kvh * headDim;
        float dot = 0.0f;
        for (int d = lane; d < headDim; d += 32) dot = fmaf(qs[d], kr[d], dot);
        float s = warp_sum(dot) * scale;
        float mNew = fmaxf(m, s);
        float corr = expf(m - mNew);
        float pw = expf(s - mNew);
        l = l * corr + pw;
#pragma unroll
        for (int i = 0; i < ATT_PER_LANE; i++) {
            int d = lane + 32 * i;
            if (d < headDim) acc[i] = fmaf(pw, vr[d], acc[i] * corr);
        }
        m = mNew;
    }
    if (lane == 0) { wm[warp] = m; wl[warp] = l; }
#pragma unroll
    for (int i = 0; i < ATT_PER_LANE; i++) {
        int d = lane + 32 * i;
        if (d < headDim) wacc[warp][d] = acc[i];
    }
    __syncthreads();

    float mAll = -INFINITY;
#pragma unroll
    for (int w = 0; w < ATT_WARPS; w++) mAll = fmaxf(mAll, wm[w]);
    float lAll = 0.0f;
#pragma unroll
    for (int w = 0; w < ATT_WARPS; w++) lAll += wl[w] * expf(wm[w] - mAll);
    float* outr = out + ((size_t)r * heads + h) * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float v = 0.0f;
#pragma unroll
        for (int w = 0; w < ATT_WARPS; w++) v += wacc[w][d] * expf(wm[w] - mAll);
        outr[d] = v / lAll;
    }
}
