// SPI 2 plans (ClPlan.java): launches a compiled plan enqueues in place of several eager kernels. Each computes what
// the kernels it replaces compute, with the same code (MATVEC_VALUE, silu_mul, rope_pair), and leaves every buffer
// those kernels write as they would leave it, intermediate results included; so a replay gives eager's numbers.
// The matvec fusions serve one token row per sequence position (decode); longer passes run the eager kernels.
//
// This file is compiled after kernels.cl and matvec.cl, in the same program.

#define PLAN_KERNELS(NAME, LOAD, LOAD4)                                                                                 \
/* groups (n0 + n1 + n2, rows): up to three matvec_* that read the same x (q/k/v), one after another along dim 0 */    \
__kernel void plan_matvec3_##NAME(__global const float *x, long cols,                                                 \
                                  __global const uchar *w0, __global const float *s0, int ss0, long n0,               \
                                  __global float *out0,                                                                \
                                  __global const uchar *w1, __global const float *s1, int ss1, long n1,               \
                                  __global float *out1,                                                                \
                                  __global const uchar *w2, __global const float *s2, int ss2, long n2,               \
                                  __global float *out2, __local float *red) {                                         \
    long o = get_group_id(0);                                                                                          \
    long r = get_group_id(1);                                                                                          \
    __global const uchar *w = w0;                                                                                      \
    __global const float *s = s0;                                                                                      \
    __global float *out = out0;                                                                                        \
    int ss = ss0;                                                                                                      \
    long n = n0;                                                                                                       \
    if (o >= n0) {                                                                                                     \
        o -= n0;                                                                                                       \
        w = w1; s = s1; ss = ss1; n = n1; out = out1;                                                                  \
        if (o >= n1) {                                                                                                 \
            o -= n1;                                                                                                   \
            w = w2; s = s2; ss = ss2; n = n2; out = out2;                                                              \
        }                                                                                                              \
    }                                                                                                                  \
    float v;                                                                                                           \
    MATVEC_VALUE(LOAD, LOAD4, w, s, ss, o, x + r * cols, cols, red, v)                                                 \
    if (get_local_id(0) == 0) out[r * n + o] = v;                                                                      \
}                                                                                                                      \
                                                                                                                       \
/* groups (outCols, rows): matvec_* into out, then add's sum of it and res into sum (resFirst: res is add's first */   \
/* operand); sum may be res, never x or out */                                                                         \
__kernel void plan_matvec_add_##NAME(__global const float *x, long cols, __global const uchar *w,                     \
                                     __global const float *scale, int scaleStride, long outCols, __global float *out, \
                                     __global const float *res, int resFirst, __global float *sum,                    \
                                     __local float *red) {                                                             \
    long o = get_group_id(0);                                                                                          \
    long r = get_group_id(1);                                                                                          \
    float v;                                                                                                           \
    MATVEC_VALUE(LOAD, LOAD4, w, scale, scaleStride, o, x + r * cols, cols, red, v)                                    \
    if (get_local_id(0) == 0) {                                                                                        \
        long i = r * outCols + o;                                                                                      \
        float a = res[i];                                                                                              \
        out[i] = v;                                                                                                    \
        sum[i] = resFirst ? a + v : v + a;                                                                             \
    }                                                                                                                  \
}                                                                                                                      \
                                                                                                                       \
/* groups (width, rows): an MLP's gate and up matvecs into gate and up, then swiglu's silu(gate) * up into out */      \
__kernel void plan_swiglu_##NAME(__global const float *x, long cols, __global const uchar *w1,                        \
                                 __global const float *s1, int ss1, __global const uchar *w3,                         \
                                 __global const float *s3, int ss3, long width, __global float *gate,                 \
                                 __global float *up, __global float *out, __local float *red) {                       \
    long j = get_group_id(0);                                                                                          \
    long r = get_group_id(1);                                                                                          \
    float g, u;                                                                                                        \
    MATVEC_VALUE(LOAD, LOAD4, w1, s1, ss1, j, x + r * cols, cols, red, g)                                              \
    MATVEC_VALUE(LOAD, LOAD4, w3, s3, ss3, j, x + r * cols, cols, red, u)                                              \
    if (get_local_id(0) == 0) {                                                                                        \
        long i = r * width + j;                                                                                        \
        gate[i] = g;                                                                                                   \
        up[i] = u;                                                                                                     \
        out[i] = silu_mul(g, u);       /* last: out may be gate or up, as swiglu's may */                             \
    }                                                                                                                  \
}

// groups (rows, 2): rmsnorm_* of two inputs with their own weights and eps (an Arctic layer's post-attention and
// residual norms); neither output may be the other's input
#define PLAN_NORM_KERNELS(NAME, LOAD)                                                                                   \
__kernel void plan_rmsnorm2_##NAME(__global const float *x0, __global const uchar *w0, __global const float *s0,      \
                                   float eps0, __global float *out0, __global const float *x1,                        \
                                   __global const uchar *w1, __global const float *s1, float eps1,                    \
                                   __global float *out1, int dim, __local float *red) {                               \
    long r = get_group_id(0);                                                                                          \
    int second = get_group_id(1);       /* pointers chosen, one body: no barrier inside a branch */                   \
    RMSNORM_ROW(LOAD, (second ? x1 : x0) + r * dim, second ? w1 : w0, second ? s1 : s0, second ? eps1 : eps0, dim,    \
                (second ? out1 : out0) + r * dim, red)                                                                 \
}

PLAN_NORM_KERNELS(f32, LOAD_F32)
PLAN_NORM_KERNELS(f16, LOAD_F16)
PLAN_NORM_KERNELS(bf16, LOAD_BF16)
PLAN_NORM_KERNELS(e4m3, LOAD_E4M3)
PLAN_NORM_KERNELS(e5m2, LOAD_E5M2)

PLAN_KERNELS(f32, LOAD_F32, LOAD4_F32)
PLAN_KERNELS(f16, LOAD_F16, LOAD4_F16)
PLAN_KERNELS(bf16, LOAD_BF16, LOAD4_BF16)
PLAN_KERNELS(e4m3, LOAD_E4M3, LOAD4_E4M3_SELECT)
PLAN_KERNELS(e5m2, LOAD_E5M2, LOAD4_E5M2)

// rope on q, rope on k, then store_kv of k and v, as one element-wise range over the rows' rotation pairs: q's pairs
// first, then k's, each k pair copied to its cache slot with the v pair beside it once rotated. Any number of rows.
__kernel void plan_rope_store(__global float *q, int heads, __global float *k, __global const float *v, int kvHeads,
                              int rows, int headDim, __global const float *cs, __global const int *slots,
                              long slotsOff, __global float *kc, __global float *vc) {
    int half_ = headDim / 2;
    long qPairs = (long) rows * heads * half_;
    long pairs = qPairs + (long) rows * kvHeads * half_;
    long width = (long) kvHeads * headDim;
    slots += slotsOff;
    FOR_EACH(idx, pairs) {
        int kPair = idx >= qPairs;
        long at = kPair ? idx - qPairs : idx;
        int j = at % half_;
        long rh = at / half_;
        long r = rh / (kPair ? kvHeads : heads);
        __global float *x = (kPair ? k : q) + rh * headDim;
        rope_pair(x, j, half_, cs[r * headDim + j], cs[r * headDim + half_ + j]);
        if (kPair) {
            long dst = (long) slots[r] * width + (rh % kvHeads) * headDim;
            __global const float *vr = v + rh * headDim;
            kc[dst + j] = x[j];
            kc[dst + j + half_] = x[j + half_];
            vc[dst + j] = vr[j];
            vc[dst + j + half_] = vr[j + half_];
        }
    }
}
