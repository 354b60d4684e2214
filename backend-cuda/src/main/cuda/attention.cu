// Causal attention of query rows over the paged KV cache, float32 softmax with scale 1/sqrt(headDim).
//
// One block (ATT_WARPS warps) per (query row, head, split). Split z covers positions [z*chunk, (z+1)*chunk) of
// the row's causal range 0..positions[r]; each warp takes every ATT_WARPS-th key of it and keeps an online
// softmax (running max, sum, and the weighted value accumulator, lane d holding dimensions d, d+32, ...); the
// warps' states are merged at the end. With one split (gridDim.z == 1) the block writes the output; with several
// (flash-decoding, for long contexts with few query rows) it writes its unnormalised state (max, sum, accumulator)
// to `partial`, and attention_combine merges the splits. The slot of position p of sequence s is
// blockTables[s * maxBlocks + p / blockSize] * blockSize + p % blockSize. Query head h reads KV head
// h / (heads / kvHeads) (grouped-query attention). headDim <= ATT_MAX_DIM.
#include "common.cuh"

#define ATT_WARPS 4
#define ATT_MAX_DIM 256
#define ATT_PER_LANE (ATT_MAX_DIM / 32)

extern "C" __global__ void __launch_bounds__(ATT_WARPS * 32)
    paged_attention(const float* __restrict__ q, const float* __restrict__ kCache, const float* __restrict__ vCache,
                    const int* __restrict__ positions, const int* __restrict__ sequence,
                    const int* __restrict__ blockTables, int maxBlocks, int blockSize, int heads, int kvHeads,
                    int headDim, float scale, int chunk, float* __restrict__ partial, float* __restrict__ out) {
    __shared__ float qs[ATT_MAX_DIM];
    __shared__ float wm[ATT_WARPS], wl[ATT_WARPS];
    __shared__ float wacc[ATT_WARPS][ATT_MAX_DIM];

    int r = blockIdx.x, h = blockIdx.y, z = blockIdx.z;
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

    int first = z * chunk;
    int last = min(pos, first + chunk - 1);
    for (int p = first + warp; p <= last; p += ATT_WARPS) {
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
    bool empty = mAll == -INFINITY; // only a split beyond the row's position sees no key
    float lAll = 0.0f;
    if (!empty) {
#pragma unroll
        for (int w = 0; w < ATT_WARPS; w++) lAll += wl[w] * expf(wm[w] - mAll);
    }
    size_t rh = (size_t)r * heads + h;
    if (gridDim.z == 1) {
        float* outr = out + rh * headDim;
        for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
            float v = 0.0f;
#pragma unroll
            for (int w = 0; w < ATT_WARPS; w++) v += wacc[w][d] * expf(wm[w] - mAll);
            outr[d] = v / lAll;
        }
        return;
    }
    // partial state of this split: [m, l, acc[0..headDim)]
    float* st = partial + (rh * gridDim.z + z) * (size_t)(headDim + 2);
    if (threadIdx.x == 0) { st[0] = mAll; st[1] = lAll; }
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float v = 0.0f;
        if (!empty) {
#pragma unroll
            for (int w = 0; w < ATT_WARPS; w++) v += wacc[w][d] * expf(wm[w] - mAll);
        }
        st[2 + d] = v;
    }
}

// Merges the splits' states of paged_attention: grid (rows, heads), ATT_WARPS*32 threads.
extern "C" __global__ void __launch_bounds__(ATT_WARPS * 32)
    attention_combine(const float* __restrict__ partial, int rows, int heads, int headDim, int splits,
                      float* __restrict__ out) {
    size_t rh = (size_t)blockIdx.x * heads + blockIdx.y;
    const float* st = partial + rh * splits * (size_t)(headDim + 2);
    float m = -INFINITY;
    for (int z = 0; z < splits; z++) m = fmaxf(m, st[z * (size_t)(headDim + 2)]);
    float l = 0.0f;
    for (int z = 0; z < splits; z++) {
        const float* sz = st + z * (size_t)(headDim + 2);
        if (sz[0] != -INFINITY) l += sz[1] * expf(sz[0] - m);
    }
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float v = 0.0f;
        for (int z = 0; z < splits; z++) {
            const float* sz = st + z * (size_t)(headDim + 2);
            if (sz[0] != -INFINITY) v += sz[2 + d] * expf(sz[0] - m);
        }
        out[rh * headDim + d] = v / l;
    }
}
