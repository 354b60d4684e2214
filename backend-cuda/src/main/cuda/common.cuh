// Shared device helpers of Floe's CUDA kernels: weight element decoding (exact, so results agree with
// dev.floe.spi.FloatFormats), warp reductions, and the per-row/scalar scale convention.
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <stdint.h>

// Weight dtypes, in the order of the Java enum dev.floe.backend.cuda.WeightFormat.
#define DT_F32 0
#define DT_F16 1
#define DT_BF16 2
#define DT_E4M3 3
#define DT_E5M2 4

#define FULL_MASK 0xffffffffu

template <int DT> struct Elem;

template <> struct Elem<DT_F32> {
    static constexpr int BYTES = 4;
    __device__ __forceinline__ static float at(const uint8_t* p, size_t i) {
        return reinterpret_cast<const float*>(p)[i];
    }
    __device__ __forceinline__ static void unpack(uint4 v, float* o) {
        o[0] = __uint_as_float(v.x); o[1] = __uint_as_float(v.y);
        o[2] = __uint_as_float(v.z); o[3] = __uint_as_float(v.w);
    }
};

__device__ __forceinline__ float bf16_bits(uint32_t b) { return __uint_as_float(b << 16); }

template <> struct Elem<DT_BF16> {
    static constexpr int BYTES = 2;
    __device__ __forceinline__ static float at(const uint8_t* p, size_t i) {
        return bf16_bits(reinterpret_cast<const uint16_t*>(p)[i]);
    }
    __device__ __forceinline__ static void word(uint32_t w, float* o) {
        o[0] = __uint_as_float(w << 16);
        o[1] = __uint_as_float(w & 0xffff0000u);
    }
    __device__ __forceinline__ static void unpack(uint4 v, float* o) {
        word(v.x, o); word(v.y, o + 2); word(v.z, o + 4); word(v.w, o + 6);
    }
};

template <> struct Elem<DT_F16> {
    static constexpr int BYTES = 2;
    __device__ __forceinline__ static float at(const uint8_t* p, size_t i) {
        return __half2float(reinterpret_cast<const __half*>(p)[i]);
    }
    __device__ __forceinline__ static void word(uint32_t w, float* o) {
        __half2_raw r;
        r.x = (unsigned short)(w & 0xffffu);
        r.y = (unsigned short)(w >> 16);
        float2 f = __half22float2(__half2(r));
        o[0] = f.x; o[1] = f.y;
    }
    __device__ __forceinline__ static void unpack(uint4 v, float* o) {
        word(v.x, o); word(v.y, o + 2); word(v.z, o + 4); word(v.w, o + 6);
    }
};

// FP8 -> half is exact and half -> float is exact, so the decoded value is the format's value.
template <__nv_fp8_interpretation_t KIND> struct Fp8 {
    static constexpr int BYTES = 1;
    __device__ __forceinline__ static float at(const uint8_t* p, size_t i) {
        __half_raw h = __nv_cvt_fp8_to_halfraw((__nv_fp8_storage_t)p[i], KIND);
        return __half2float(__half(h));
    }
    __device__ __forceinline__ static void pair(uint32_t two, float* o) {
        __half2_raw h = __nv_cvt_fp8x2_to_halfraw2((__nv_fp8x2_storage_t)(two & 0xffffu), KIND);
        float2 f = __half22float2(__half2(h));
        o[0] = f.x; o[1] = f.y;
    }
    __device__ __forceinline__ static void word(uint32_t w, float* o) {
        pair(w, o); pair(w >> 16, o + 2);
    }
    __device__ __forceinline__ static void unpack(uint4 v, float* o) {
        word(v.x, o); word(v.y, o + 4); word(v.z, o + 8); word(v.w, o + 12);
    }
};

template <> struct Elem<DT_E4M3> : Fp8<__NV_E4M3> {};
template <> struct Elem<DT_E5M2> : Fp8<__NV_E5M2> {};

// Scale of weight row `row`: no scale (null), one scalar (stride 0) or one per row (stride 1).
__device__ __forceinline__ float row_scale(const float* scale, int stride, size_t row) {
    return scale == nullptr ? 1.0f : scale[row * (size_t)stride];
}

// One lane's share of the dot product of an FP8 weight row with a grid of block scales (DeepSeek-V3's
// weight_scale_inv: W = fp8 * scale, srow holding the scales of the row's block row, one per blockCols columns)
// and the activations x; e5m2 picks the format. Sum the lanes with warp_sum.
__device__ __forceinline__ float block_dot(const uint8_t* __restrict__ wrow, const float* __restrict__ srow, int blockCols,
                                           const float* __restrict__ x, int cols, int lane, int e5m2) {
    float acc = 0.0f;
    for (int c = lane; c < cols; c += 32) {
        float w = e5m2 ? Elem<DT_E5M2>::at(wrow, c) : Elem<DT_E4M3>::at(wrow, c);
        acc = fmaf(w * srow[c / blockCols], x[c], acc);
    }
    return acc;
}

// The scales of weight row `row` in a row-major grid of block scales.
__device__ __forceinline__ const float* block_scales(const float* scale, int row, int blockRows, int blockCols, int cols) {
    return scale + (size_t)(row / blockRows) * ((cols + blockCols - 1) / blockCols);
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
    return v;
}

__device__ __forceinline__ float silu(float g) { return g / (1.0f + expf(-g)); }
