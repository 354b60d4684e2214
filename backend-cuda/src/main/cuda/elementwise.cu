// Row-wise and element-wise kernels of the layer graph: embedding, RMSNorm, RoPE, KV stores, SwiGLU, add,
// row gather/scatter, and the activation conversions the cuBLASLt path needs. All activations are float32.
#include "common.cuh"

// ---- embedding: out[r][c] = table[ids[r]][c] * scale(ids[r]); grid (rows, ceil(cols/256))
template <int DT>
__device__ __forceinline__ void embed_impl(const uint8_t* table, const float* scale, int scaleStride,
                                           const int* ids, int cols, float* out) {
    int r = blockIdx.x;
    int c = blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    size_t id = (size_t)ids[r];
    out[(size_t)r * cols + c] = Elem<DT>::at(table, id * cols + c) * row_scale(scale, scaleStride, id);
}

#define EMBED(NAME, DT)                                                                                      \
    extern "C" __global__ void NAME(const uint8_t* table, const float* scale, int scaleStride,               \
                                    const int* ids, int cols, float* out) {                                  \
        embed_impl<DT>(table, scale, scaleStride, ids, cols, out);                                           \
    }
EMBED(embed_f32, DT_F32)
EMBED(embed_f16, DT_F16)
EMBED(embed_bf16, DT_BF16)
EMBED(embed_e4m3, DT_E4M3)
EMBED(embed_e5m2, DT_E5M2)

// ---- RMSNorm: one block (256 threads) per row; out may alias x (each element is read before it is written
// by the same thread, and the reduction completes before any write).
template <int DT>
__device__ __forceinline__ void rms_norm_impl(const float* x, const uint8_t* w, const float* scale, float eps,
                                              int dim, float* out) {
    __shared__ float partial[32];
    const float* xr = x + (size_t)blockIdx.x * dim;
    float* outr = out + (size_t)blockIdx.x * dim;
    float ss = 0.0f;
    for (int c = threadIdx.x; c < dim; c += blockDim.x) ss = fmaf(xr[c], xr[c], ss);
    ss = warp_sum(ss);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    if (lane == 0) partial[warp] = ss;
    __syncthreads();
    if (warp == 0) {
        int warps = (blockDim.x + 31) >> 5;
        float v = lane < warps ? partial[lane] : 0.0f;
        v = warp_sum(v);
        if (lane == 0) partial[0] = v;
    }
    __syncthreads();
    float inv = 1.0f / sqrtf(partial[0] / (float)dim + eps);
    float s = scale == nullptr ? 1.0f : scale[0];
    for (int c = threadIdx.x; c < dim; c += blockDim.x) outr[c] = Elem<DT>::at(w, c) * s * (xr[c] * inv);
}

#define RMS_NORM(NAME, DT)                                                                                   \
    extern "C" __global__ void NAME(const float* x, const uint8_t* w, const float* scale, float eps, int dim, \
                                    float* out) {                                                            \
        rms_norm_impl<DT>(x, w, scale, eps, dim, out);                                                       \
    }
RMS_NORM(rms_norm_f32, DT_F32)
RMS_NORM(rms_norm_f16, DT_F16)
RMS_NORM(rms_norm_bf16, DT_BF16)
RMS_NORM(rms_norm_e4m3, DT_E4M3)
RMS_NORM(rms_norm_e5m2, DT_E5M2)

// ---- RoPE, rotate-half, in place. One thread per (row, head, j < headDim/2). The angle is computed in double
// precision: positions reach tens of thousands of radians, where float32 loses the phase.
// The rotate-half pair of this thread (one thread per (row, head, j < headDim/2)): the head's values, or null past
// the end; *r is the row, *j the pair's index.
__device__ __forceinline__ float* rope_pair(float* x, int rows, int heads, int headDim, int* r, int* j) {
    int half = headDim / 2;
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)rows * heads * half) return nullptr;
    *j = (int)(i % half);
    long long rh = i / half;
    *r = (int)(rh / heads);
    return x + rh * headDim;
}

extern "C" __global__ void rope(float* x, int rows, int heads, int headDim, const int* positions, float theta) {
    int half = headDim / 2, r, j;
    float* v = rope_pair(x, rows, heads, headDim, &r, &j);
    if (v == nullptr) return;
    double angle = (double)positions[r] * pow((double)theta, -2.0 * j / headDim);
    double s, c;
    sincos(angle, &s, &c);
    float cs = (float)c, sn = (float)s;
    float a = v[j], b = v[j + half];
    v[j] = a * cs - b * sn;
    v[j + half] = b * cs + a * sn;
}

// ---- RoPE from the step's rotation rows (SPI 2): cosT/sinT are [rows, headDim/2], computed once per pass by the
// runtime in float32 (dev.floe.spi.RopeTable). Products and difference rounded separately (no FMA contraction), so
// the result is the float32 arithmetic of the reference.
extern "C" __global__ void rope_table(float* x, int rows, int heads, int headDim, const float* cosT, const float* sinT) {
    int half = headDim / 2, r, j;
    float* v = rope_pair(x, rows, heads, headDim, &r, &j);
    if (v == nullptr) return;
    float cs = cosT[(size_t)r * half + j], sn = sinT[(size_t)r * half + j];
    float a = v[j], b = v[j + half];
    v[j] = __fsub_rn(__fmul_rn(a, cs), __fmul_rn(b, sn));
    v[j + half] = __fadd_rn(__fmul_rn(b, cs), __fmul_rn(a, sn));
}

// ---- KV store: kCache/vCache are the layer's [slots, width] planes; row r goes to slot slots[r].
extern "C" __global__ void store_kv(float* kCache, float* vCache, const float* k, const float* v, int rows,
                                    int width, const int* slots) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)rows * width) return;
    int r = (int)(i / width), c = (int)(i % width);
    size_t dst = (size_t)slots[r] * width + c;
    kCache[dst] = k[i];
    vCache[dst] = v[i];
}

// ---- element-wise
extern "C" __global__ void swiglu(const float* gate, const float* up, long long n, float* out) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = silu(gate[i]) * up[i];
}

extern "C" __global__ void add(const float* a, const float* b, long long n, float* out) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = a[i] + b[i];
}

// dst[i] = src[rows[i]]; grid (n, ceil(cols/256))
extern "C" __global__ void gather_rows(const float* src, int cols, const int* rows, float* dst) {
    int c = blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    dst[(size_t)blockIdx.x * cols + c] = src[(size_t)rows[blockIdx.x] * cols + c];
}

// dst[rows[i]] += scales[i] * src[i] in order of i: one thread per column walks the list, so repeated rows add up
// deterministically and in order.
extern "C" __global__ void scatter_add_rows(const float* src, int cols, const int* rows, const float* scales, int n,
                                            float* dst) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    for (int i = 0; i < n; i++) {
        size_t d = (size_t)rows[i] * cols + c;
        dst[d] = fmaf(scales[i], src[(size_t)i * cols + c], dst[d]);
    }
}

// ---- conversions for the cuBLASLt prefill path
extern "C" __global__ void f32_to_bf16(const float* x, long long n, __nv_bfloat16* out) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = __float2bfloat16_rn(x[i]);
}

// amax[0] = max |x| (amax must be zeroed first; non-negative floats order like their bit patterns).
extern "C" __global__ void abs_max(const float* x, long long n, unsigned int* amax) {
    float m = 0.0f;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        m = fmaxf(m, fabsf(x[i]));
    m = warp_max(m);
    if ((threadIdx.x & 31) == 0) atomicMax(amax, __float_as_uint(m));
}

// Per-tensor FP8 quantisation of activations: scale = amax / 448, q = sat(x / scale). Writes the scale (the
// B_SCALE of the FP8 GEMM) to scaleOut[0].
extern "C" __global__ void quantize_e4m3(const float* x, long long n, const unsigned int* amax,
                                         __nv_fp8_storage_t* out, float* scaleOut) {
    float a = __uint_as_float(amax[0]);
    float scale = a > 0.0f ? a / 448.0f : 1.0f;
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i == 0) scaleOut[0] = scale;
    if (i < n) out[i] = __nv_cvt_float_to_fp8(x[i] / scale, __NV_SATFINITE, __NV_E4M3);
}

// out[r][o] *= scale(o): applies per-output-row weight scales after a GEMM that ran with unit scales.
extern "C" __global__ void scale_columns(float* out, int rows, int cols, const float* scale, int scaleStride) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)rows * cols) return;
    out[i] *= scale[(size_t)(i % cols) * scaleStride];
}
