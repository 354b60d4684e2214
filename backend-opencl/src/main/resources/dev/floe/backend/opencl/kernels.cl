// Floe's OpenCL kernels. OpenCL C 1.2, no extension needed: half, bfloat16 and the FP8 formats are decoded with
// integer bit operations, so devices without cl_khr_fp16 (PoCL) run them. Activations are float32.
//
// Work-group conventions (set by the host): reduction kernels run with a power-of-two local size `get_local_size(0)`
// and receive a __local scratch array of that many floats (times MM_ROWS for matmul).

#define MM_ROWS 8

// Element-wise kernels stride over the whole range, so the host may cap the number of work-items it launches.
#define FOR_EACH(i, n) for (long i = get_global_id(0); i < (n); i += get_global_size(0))

// ---- storage formats -------------------------------------------------------------------------------------------
// Helpers are plain functions, not `inline`: under C99 inline rules some compilers would emit no definition for a
// call they chose not to inline.

float f16_bits(uint h) {
    uint s = (h & 0x8000u) << 16;
    uint e = (h >> 10) & 0x1Fu;
    uint m = h & 0x3FFu;
    if (e == 0x1Fu) return as_float(s | 0x7F800000u | (m << 13));   // infinity, NaN (payload kept)
    if (e != 0u) return as_float(s | ((e + 112u) << 23) | (m << 13));
    float v = (float) m * 5.9604644775390625e-8f;                    // subnormal: m * 2^-24, exact
    return s != 0u ? -v : v;
}

float e4m3_bits(uint c) {
    uint s = (c & 0x80u) << 24;
    uint e = (c >> 3) & 0xFu;
    uint m = c & 7u;
    if (e == 15u && m == 7u) return as_float(0x7FC00000u);           // the only NaN; no infinities
    if (e == 0u) {
        float v = (float) m * 0.001953125f;                          // subnormal: m * 2^-9, exact
        return s != 0u ? -v : v;                                     // 0x80 is -0, as the OCP tables (and FloatFormats) say
    }
    return as_float(s | ((e + 120u) << 23) | (m << 20));
}

#define LOAD_F32(w, i)  (((__global const float *) (w))[i])
#define LOAD_F16(w, i)  f16_bits((uint) ((__global const ushort *) (w))[i])
#define LOAD_BF16(w, i) as_float(((uint) ((__global const ushort *) (w))[i]) << 16)
#define LOAD_E4M3(w, i) e4m3_bits((uint) (w)[i])
#define LOAD_E5M2(w, i) f16_bits(((uint) (w)[i]) << 8)

// Four consecutive elements starting at element base + 4 j, as a float4.
float4 f16x4(ushort4 u) {
    return (float4) (f16_bits(u.x), f16_bits(u.y), f16_bits(u.z), f16_bits(u.w));
}
float4 e4m3x4(uchar4 c) {
    return (float4) (e4m3_bits(c.x), e4m3_bits(c.y), e4m3_bits(c.z), e4m3_bits(c.w));
}
#define LOAD4_F32(w, base, j)  vload4(j, ((__global const float *) (w)) + (base))
#define LOAD4_F16(w, base, j)  f16x4(vload4(j, ((__global const ushort *) (w)) + (base)))
#define LOAD4_BF16(w, base, j) as_float4(convert_uint4(vload4(j, ((__global const ushort *) (w)) + (base))) << 16)
#define LOAD4_E4M3(w, base, j) e4m3x4(vload4(j, (w) + (base)))
#define LOAD4_E5M2(w, base, j) f16x4(convert_ushort4(vload4(j, (w) + (base))) << (ushort) 8)

// The end of a matmul work-group: sums each token row's partial dot products over the group and writes them, times
// `sc`, to out[t * outCols] for the group's nr token rows.
void mm_reduce_store(float *acc, int nr, __local float *red, __global float *out, long outCols, float sc) {
    int lid = get_local_id(0);
    int wg = get_local_size(0);
    for (int t = 0; t < MM_ROWS; t++) red[t * wg + lid] = acc[t];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = wg >> 1; s > 0; s >>= 1) {
        if (lid < s) for (int t = 0; t < MM_ROWS; t++) if (t < nr) red[t * wg + lid] += red[t * wg + lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int t = lid; t < nr; t += wg) out[(long) t * outCols] = red[t * wg] * sc;
}

// The start of a matmul work-group (one per output feature o and block of MM_ROWS token rows): its indices, the
// rows it covers (nr), zeroed partial sums and the offset of weight row o.
#define MM_BEGIN                                                                                                       \
    int lid = get_local_id(0);                                                                                         \
    int wg = get_local_size(0);                                                                                        \
    long o = get_group_id(0);                                                                                          \
    int r0 = get_group_id(1) * MM_ROWS;                                                                                \
    int nr = min(MM_ROWS, rows - r0);                                                                                  \
    float acc[MM_ROWS];                                                                                                \
    for (int t = 0; t < MM_ROWS; t++) acc[t] = 0.0f;                                                                   \
    long base = o * cols;

// Weights arrive as raw bytes (`w`) plus float32 scales; `scaleStride` is 1 for per-row scales, 0 for a scalar.

// One row of rmsnorm_* (a work-group's share): outr = xr / rms(xr) * w; also plan_rmsnorm2_* (plan.cl), so that the
// fused launch computes exactly what rmsnorm_* computes.
#define RMSNORM_ROW(LOAD, xr, w, scale, eps, dim, outr, red)                                                            \
    {                                                                                                                  \
        int lid_ = get_local_id(0);                                                                                    \
        int wg_ = get_local_size(0);                                                                                   \
        __global const float *xr_ = (xr);                                                                              \
        __global float *outr_ = (outr);                                                                                \
        float ss_ = 0.0f;                                                                                              \
        for (int i = lid_; i < (dim); i += wg_) ss_ += xr_[i] * xr_[i];                                                \
        (red)[lid_] = ss_;                                                                                             \
        barrier(CLK_LOCAL_MEM_FENCE);                                                                                  \
        for (int s_ = wg_ >> 1; s_ > 0; s_ >>= 1) {                                                                    \
            if (lid_ < s_) (red)[lid_] += (red)[lid_ + s_];                                                            \
            barrier(CLK_LOCAL_MEM_FENCE);                                                                              \
        }                                                                                                              \
        float inv_ = 1.0f / sqrt((red)[0] / (float) (dim) + (eps));                                                    \
        float sc_ = (scale)[0];                                                                                        \
        for (int i = lid_; i < (dim); i += wg_) outr_[i] = (LOAD(w, i) * sc_) * (xr_[i] * inv_);                       \
    }

#define WEIGHT_KERNELS(NAME, LOAD, LOAD4)                                                                                   \
__kernel void embed_##NAME(__global const uchar *w, __global const float *scale, int scaleStride, long cols,          \
                           __global const int *ids, long idsOff, __global float *out) {                               \
    long c = get_global_id(0);                                                                                         \
    long r = get_global_id(1);                                                                                         \
    if (c >= cols) return;                                                                                             \
    long id = ids[idsOff + r];                                                                                         \
    out[r * cols + c] = LOAD(w, id * cols + c) * scale[id * scaleStride];                                             \
}                                                                                                                      \
                                                                                                                       \
__kernel void rmsnorm_##NAME(__global const float *x, __global const uchar *w, __global const float *scale,          \
                             float eps, int dim, __global float *out, __local float *red) {                           \
    long r = get_group_id(0);                                                                                          \
    RMSNORM_ROW(LOAD, x + r * dim, w, scale, eps, dim, out + r * dim, red)                                             \
}                                                                                                                      \
                                                                                                                       \
/* One work-group per output feature o and block of MM_ROWS token rows: the weight row is read once per block. */     \
__kernel void matmul_##NAME(__global const float *x, int rows, __global const uchar *w, __global const float *scale,  \
                            int scaleStride, long cols, long outCols, __global float *out, __local float *red) {      \
    MM_BEGIN                                                                                                           \
    __global const float *xr = x + (long) r0 * cols;                                                                   \
    if ((cols & 3) == 0) {                          /* rows of whole float4s: vector loads */                       \
        for (long j = lid; j < (cols >> 2); j += wg) {                                                                 \
            float4 wv = LOAD4(w, base, j);                                                                             \
            for (int t = 0; t < MM_ROWS; t++) if (t < nr) acc[t] += dot(wv, vload4(j, xr + t * cols));                 \
        }                                                                                                              \
    } else {                                                                                                           \
        for (long i = lid; i < cols; i += wg) {                                                                        \
            float wv = LOAD(w, base + i);                                                                              \
            for (int t = 0; t < MM_ROWS; t++) if (t < nr) acc[t] += wv * xr[t * cols + i];                             \
        }                                                                                                              \
    }                                                                                                                  \
    mm_reduce_store(acc, nr, red, out + (long) r0 * outCols + o, outCols, scale[o * scaleStride]);                    \
}

// FP8 weights with a grid of block scales (DeepSeek-V3's weight_scale_inv): the scale of element (o, i) is
// scale[(o / blockRows) * gridCols + i / blockCols], applied per element before the product.
#define BLOCK_KERNELS(NAME, LOAD)                                                                                          \
__kernel void matmul_block_##NAME(__global const float *x, int rows, __global const uchar *w,                         \
                                  __global const float *scale, int blockRows, int blockCols, long gridCols,           \
                                  long cols, long outCols, __global float *out, __local float *red) {                 \
    MM_BEGIN                                                                                                           \
    __global const float *sr = scale + (o / blockRows) * gridCols;                                                     \
    __global const float *xr = x + (long) r0 * cols;                                                                   \
    for (long i = lid; i < cols; i += wg) {                                                                            \
        float wv = LOAD(w, base + i) * sr[i / blockCols];                                                              \
        for (int t = 0; t < MM_ROWS; t++) if (t < nr) acc[t] += wv * xr[t * cols + i];                                 \
    }                                                                                                                  \
    mm_reduce_store(acc, nr, red, out + (long) r0 * outCols + o, outCols, 1.0f);                                       \
}

WEIGHT_KERNELS(f32, LOAD_F32, LOAD4_F32)
WEIGHT_KERNELS(f16, LOAD_F16, LOAD4_F16)
WEIGHT_KERNELS(bf16, LOAD_BF16, LOAD4_BF16)
WEIGHT_KERNELS(e4m3, LOAD_E4M3, LOAD4_E4M3)
WEIGHT_KERNELS(e5m2, LOAD_E5M2, LOAD4_E5M2)
BLOCK_KERNELS(e4m3, LOAD_E4M3)
BLOCK_KERNELS(e5m2, LOAD_E5M2)

// ---- element-wise ----------------------------------------------------------------------------------------------

__kernel void zero(__global uint *dst, long n) {
    FOR_EACH(i, n) dst[i] = 0u;
}

// silu(g) * u: the one formula of swiglu, moe_up and plan_swiglu_*, so that fused and eager results agree bit for bit
float silu_mul(float g, float u) {
    return g / (1.0f + exp(-g)) * u;
}

__kernel void swiglu(__global const float *gate, __global const float *up, long n, __global float *out) {
    FOR_EACH(i, n) out[i] = silu_mul(gate[i], up[i]);
}

__kernel void add(__global const float *a, __global const float *b, long n, __global float *out) {
    FOR_EACH(i, n) out[i] = a[i] + b[i];
}

// Rotates the pair (v[j], v[j + half]) by the angle of cosine c and sine s: the one rotation of rope and plan_rope_store.
void rope_pair(__global float *v, int j, int half_, float c, float s) {
    float a = v[j];
    float b = v[j + half_];
    v[j] = a * c - b * s;
    v[j + half_] = b * c + a * s;
}

// `cs` holds, per row, headDim/2 cosines followed by headDim/2 sines of that row's angles (computed on the host in
// double precision).
__kernel void rope(__global float *x, int rows, int heads, int headDim, __global const float *cs, long csOff) {
    int half_ = headDim / 2;
    cs += csOff;
    FOR_EACH(idx, (long) rows * heads * half_) {
        int j = idx % half_;
        long rh = idx / half_;
        long r = rh / heads;
        __global float *v = x + rh * headDim;
        float c = cs[r * headDim + j];
        float s = cs[r * headDim + half_ + j];
        rope_pair(v, j, half_, c, s);
    }
}

__kernel void store_kv(__global const float *k, __global const float *v, __global const int *slots, long slotsOff,
                       int rows, int width, __global float *kc, __global float *vc) {
    slots += slotsOff;
    FOR_EACH(idx, (long) rows * width) {
        long r = idx / width;
        long c = idx % width;
        long dst = (long) slots[r] * width + c;
        kc[dst] = k[idx];
        vc[dst] = v[idx];
    }
}

__kernel void gather_rows(__global const float *src, int cols, __global const int *rows, long rowsOff, int n,
                          __global float *dst) {
    rows += rowsOff;
    FOR_EACH(idx, (long) n * cols) {
        long i = idx / cols;
        long c = idx % cols;
        dst[idx] = src[(long) rows[i] * cols + c];
    }
}

// One work-item per column walks the rows in order of i, so repeated destination rows accumulate deterministically.
__kernel void scatter_add_rows(__global const float *src, int cols, __global const int *rows, long rowsOff,
                               __global const float *scales, long scalesOff, int n, __global float *dst) {
    rows += rowsOff;
    scales += scalesOff;
    FOR_EACH(c, cols) {
        for (int i = 0; i < n; i++) {
            long d = (long) rows[i] * cols + c;
            dst[d] += scales[i] * src[(long) i * cols + c];
        }
    }
}

// ---- attention over the paged KV cache -------------------------------------------------------------------------

// One work-group per (query head, query row). Scores go to global scratch (`scores`, `scoreStride` floats per
// (row, head)); three passes: scores and their max, exponentials and their sum, then the weighted sum of values.
// `meta` (from `metaOff`) holds the batch: positions[rows], sequence[rows], tableStart[sequences], then the block
// tables of all sequences back to back.
__kernel void attention(__global const float *q, __global const float *kc, __global const float *vc,
                        __global const int *meta, long metaOff, int rows, int sequences, int rowBase,
                        __global float *scores, long scoreStride, __global float *out, int heads, int kvHeads,
                        int headDim, int blockSize, float scale, __local float *red, __local float *qv) {
    __global const int *positions = meta + metaOff;
    __global const int *sequence = positions + rows;
    __global const int *tableStart = sequence + rows;
    __global const int *tables = tableStart + sequences;
    int h = get_group_id(0);
    int rl = get_group_id(1);                         // row within this launch
    int r = rowBase + rl;
    int lid = get_local_id(0);
    int wg = get_local_size(0);
    int kvh = h / (heads / kvHeads);
    int pos = positions[r];
    __global const int *table = tables + tableStart[sequence[r]];
    long width = (long) kvHeads * headDim;
    long qoff = ((long) r * heads + h) * headDim;
    __global float *sc = scores + ((long) rl * heads + h) * scoreStride;

    for (int d = lid; d < headDim; d += wg) qv[d] = q[qoff + d];
    barrier(CLK_LOCAL_MEM_FENCE);

    float mx = -INFINITY;
    for (int p = lid; p <= pos; p += wg) {
        long slot = (long) table[p / blockSize] * blockSize + p % blockSize;
        __global const float *kr = kc + slot * width + (long) kvh * headDim;
        float s = 0.0f;
        if ((headDim & 3) == 0) {
            for (int d = 0; d < headDim >> 2; d++) s += dot(vload4(d, qv), vload4(d, kr));
        } else {
            for (int d = 0; d < headDim; d++) s += qv[d] * kr[d];
        }
        s *= scale;
        sc[p] = s;
        mx = fmax(mx, s);
    }
    red[lid] = mx;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = wg >> 1; s > 0; s >>= 1) {
        if (lid < s) red[lid] = fmax(red[lid], red[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float m = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);

    float sum = 0.0f;
    for (int p = lid; p <= pos; p += wg) {
        float e = exp(sc[p] - m);
        sc[p] = e;
        sum += e;
    }
    red[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    for (int s = wg >> 1; s > 0; s >>= 1) {
        if (lid < s) red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float inv = 1.0f / red[0];

    for (int d = lid; d < headDim; d += wg) {
        float acc = 0.0f;
        for (int p = 0; p <= pos; p++) {
            long slot = (long) table[p / blockSize] * blockSize + p % blockSize;
            acc += sc[p] * vc[slot * width + (long) kvh * headDim + d];
        }
        out[qoff + d] = acc * inv;
    }
}
