// Decode-shaped matmul (one token row, or a few): one work-group per (output feature, row), a strided dot product and
// one tree reduction, without the MM_ROWS accumulators of matmul_*: on PoCL, where every barrier of a reduction is a
// loop over the group, it is several times faster at batch 1. The sums are the same as matmul_*'s for a single row
// (the same partial sums, reduced in the same order), so results do not change with the kernel chosen.
//
// Compiled after kernels.cl (LOAD/LOAD4); moe.cl uses PARTIAL_DOT, group_sum and LOAD4_E4M3_SELECT, plan.cl
// MATVEC_VALUE.

// The work-group's sum of `acc` (every work-item's partial), reduced as matmul_* reduces; all work-items get it.
float group_sum(float acc, __local float *red) {
    int lid = get_local_id(0);
    int wg = get_local_size(0);
    red[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = wg >> 1; s > 0; s >>= 1) {
        if (lid < s) red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

// This work-item's partial dot product of weight row `row` (cols elements from element row * cols of w) with x.
#define PARTIAL_DOT(LOAD, LOAD4, w, row, x, cols, out)                                                              \
    {                                                                                                                  \
        int lid_ = get_local_id(0), wg_ = get_local_size(0);                                                           \
        long base_ = (long) (row) * (cols);                                                                            \
        float acc_ = 0.0f;                                                                                             \
        if (((cols) & 3) == 0) {                                                                                       \
            for (long j_ = lid_; j_ < ((cols) >> 2); j_ += wg_) acc_ += dot(LOAD4(w, base_, j_), vload4(j_, (x)));    \
        } else {                                                                                                       \
            for (long i_ = lid_; i_ < (cols); i_ += wg_) acc_ += LOAD(w, base_ + i_) * (x)[i_];                        \
        }                                                                                                              \
        out = acc_;                                                                                                    \
    }

// FP8 E4M3 four at a time without branches (select instead of the scalar decoder's ifs): PoCL vectorises this across
// work-items, where e4m3_bits' branches kept every element scalar. Bit for bit the same values as e4m3_bits: normal
// codes are (e + 120, m) as float fields, subnormals m * 2^-9 (exact), the sign bit is copied (0x80 is -0), and
// S.1111.111 is the NaN 0x7FC00000.
float4 e4m3x4_select(uchar4 c) {
    uint4 u = convert_uint4(c);
    uint4 mag = u & 0x7Fu;
    float4 normal = as_float4((mag << 20) + (120u << 23));
    float4 sub = convert_float4(u & 7u) * 0.001953125f;
    float4 v = select(normal, sub, (mag >> 3) == 0u);
    v = as_float4(as_uint4(v) | ((u & 0x80u) << 24));
    return select(v, as_float4((uint4) (0x7FC00000u)), mag == 0x7Fu);
}
#define LOAD4_E4M3_SELECT(w, base, j) e4m3x4_select(vload4(j, (w) + (base)))

// v = the dot product of weight row o with xr, times its scale: one work-group's share of matvec_*, also used by the
// decode fusions of a compiled plan (plan.cl) so that they compute exactly what matvec_* computes.
#define MATVEC_VALUE(LOAD, LOAD4, w, scale, scaleStride, o, xr, cols, red, v)                                          \
    {                                                                                                                  \
        float part_;                                                                                                   \
        PARTIAL_DOT(LOAD, LOAD4, w, o, xr, cols, part_)                                                                \
        v = group_sum(part_, red) * (scale)[(o) * (scaleStride)];                                                      \
    }

#define MATVEC_KERNEL(NAME, LOAD, LOAD4)                                                                                \
/* groups (outCols, rows) */                                                                                           \
__kernel void matvec_##NAME(__global const float *x, int rows, __global const uchar *w, __global const float *scale,  \
                            int scaleStride, long cols, long outCols, __global float *out, __local float *red) {      \
    long o = get_group_id(0);                                                                                          \
    long r = get_group_id(1);                                                                                          \
    float v;                                                                                                           \
    MATVEC_VALUE(LOAD, LOAD4, w, scale, scaleStride, o, x + r * cols, cols, red, v)                                    \
    if (get_local_id(0) == 0) out[r * outCols + o] = v;                                                                \
}

MATVEC_KERNEL(f32, LOAD_F32, LOAD4_F32)
MATVEC_KERNEL(f16, LOAD_F16, LOAD4_F16)
MATVEC_KERNEL(bf16, LOAD_BF16, LOAD4_BF16)
MATVEC_KERNEL(e4m3, LOAD_E4M3, LOAD4_E4M3_SELECT)
MATVEC_KERNEL(e5m2, LOAD_E5M2, LOAD4_E5M2)
