// Decode-shaped matmul (one token row, or a few): one work-group per (output feature, row), a strided dot product and
// one tree reduction, without the MM_ROWS accumulators of matmul_*: on PoCL, where every barrier of a reduction is a
// loop over the group, it is several times faster at batch 1. The sums are the same as matmul_*'s for a single row
// (the same partial sums, reduced in the same order), so results do not change with the kernel chosen.
//
// Compiled after kernels.cl (LOAD/LOAD4); moe.cl uses PARTIAL_DOT and group_sum.

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

#define MATVEC_KERNEL(NAME, LOAD, LOAD4)                                                                                \
/* groups (outCols, rows) */                                                                                           \
__kernel void matvec_##NAME(__global const float *x, int rows, __global const uchar *w, __global const float *scale,  \
                            int scaleStride, long cols, long outCols, __global float *out, __local float *red) {      \
    long o = get_group_id(0);                                                                                          \
    long r = get_group_id(1);                                                                                          \
    float part;                                                                                                        \
    PARTIAL_DOT(LOAD, LOAD4, w, o, x + r * cols, cols, part)                                                           \
    float v = group_sum(part, red) * scale[o * scaleStride];                                                           \
    if (get_local_id(0) == 0) out[r * outCols + o] = v;                                                                \
}

MATVEC_KERNEL(f32, LOAD_F32, LOAD4_F32)
MATVEC_KERNEL(f16, LOAD_F16, LOAD4_F16)
MATVEC_KERNEL(bf16, LOAD_BF16, LOAD4_BF16)
MATVEC_KERNEL(e4m3, LOAD_E4M3, LOAD4_E4M3)
MATVEC_KERNEL(e5m2, LOAD_E5M2, LOAD4_E5M2)
