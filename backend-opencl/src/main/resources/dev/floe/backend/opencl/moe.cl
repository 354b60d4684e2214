// SPI 2: the MoE block on the device (Backend.moe, ClMoe.java) in three kernels, with no host read between them:
//
//   moe_route_*  one work-group per row: the router logits (the gate matmul, reduced as matmul_* reduces), then
//                RoutingSpec.route on work-item 0, writing the row's expert ids and float32 weights [rows, k]
//   moe_up_*     one work-group per (intermediate feature j, (row, choice) pair): silu(x . W1[e][j]) * (x . W3[e][j])
//   moe_down_*   one work-group per (hidden feature o, row): the row's choices in ascending expert index (equal ids in
//                slot order, as the SPI 1 decomposition adds them), dst[r][o] += weight * (h[pair] . W2[e][o])
//
// Experts are read by index from packed banks: every expert of a layer back to back in one memory object per
// projection (`stride` bytes apart), their float32 scales likewise (`scaleCount` per expert: the rows, or 1). An id of
// -1 pads a row that a host router gave fewer than k experts: its pair is skipped everywhere.
//
// This file is compiled after kernels.cl and matvec.cl, in the same program: it uses their LOAD/LOAD4 macros,
// PARTIAL_DOT and group_sum.

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
// RoutingSpec.route computes exp and the sigmoid in float64 and divides correctly rounded: float64 here reproduces it.
typedef double moe_real;
#else
// Without float64 the routing is float32: the same rule, but near-ties may fall otherwise than on the host.
typedef float moe_real;
#endif

#define MOE_SOFTMAX 0
#define MOE_SOFTMAX_RENORM 1
#define MOE_SIGMOID 2
#define MOE_MAX_K 32

// a ranks strictly above b: larger first, NaN last (callers keep the lower index on equality)
int moe_above(moe_real a, moe_real b) {
    if (isnan(a)) return 0;
    return isnan(b) || a > b;
}

// float32 a / b correctly rounded (as Java divides), whatever the device's single-precision division accuracy
float moe_div(float a, float b) {
    return (float) ((moe_real) a / (moe_real) b);
}

// RoutingSpec.softmax's probability of a logit l: NaN is 0, uniform when every logit is -inf or NaN, +inf logits share
// the mass; m is the largest logit, sum the float32 sum of exp(l - m) in index order.
float moe_softmax_p(float l, float m, float sum, int experts, int infCount) {
    if (m == -INFINITY) return moe_div(1.0f, (float) experts);
    if (m == INFINITY) return l == m ? moe_div(1.0f, (float) infCount) : 0.0f;
    if (isnan(l)) return 0.0f;
    return moe_div((float) exp((moe_real) (l - m)), sum);
}

moe_real moe_sigmoid(float l) {
    return isnan(l) ? (moe_real) 0 : (moe_real) 1 / ((moe_real) 1 + exp(-(moe_real) l));
}

// RoutingSpec.route for one row of logits: its k experts, best first, and their weights.
void moe_route_row(__global const float *lr, int experts, int k, int mode, __global const moe_real *bias,
                   __global int *ids, __global float *weights) {
    int sigmoid = mode == MOE_SIGMOID;
    float m = -INFINITY, sum = 0.0f;
    int infCount = 0;
    if (!sigmoid) {
        for (int e = 0; e < experts; e++) if (lr[e] > m) m = lr[e];
        for (int e = 0; e < experts; e++) {
            if (lr[e] == INFINITY) infCount++;
            if (m != -INFINITY && m != INFINITY && !isnan(lr[e])) sum += (float) exp((moe_real) (lr[e] - m));
        }
    }
    int picked[MOE_MAX_K];
    for (int t = 0; t < k; t++) {
        moe_real best = 0;
        int bestIdx = -1;
        for (int e = 0; e < experts; e++) {
            int taken = 0;
            for (int u = 0; u < t; u++) taken |= picked[u] == e;
            if (taken) continue;
            moe_real key = sigmoid ? (isnan(lr[e]) ? (moe_real) NAN : moe_sigmoid(lr[e]) + bias[e])
                                   : (moe_real) moe_softmax_p(lr[e], m, sum, experts, infCount);
            if (bestIdx < 0 || moe_above(key, best)) {
                best = key;
                bestIdx = e;
            }
        }
        picked[t] = bestIdx;
    }
    if (sigmoid) {
        moe_real total = 0;
        for (int t = 0; t < k; t++) total += moe_sigmoid(lr[picked[t]]);
        for (int t = 0; t < k; t++) {
            ids[t] = picked[t];
            weights[t] = total > 0 ? (float) (moe_sigmoid(lr[picked[t]]) / total) : moe_div(1.0f, (float) k);
        }
    } else {
        float total = 0.0f;
        for (int t = 0; t < k; t++) {
            ids[t] = picked[t];
            weights[t] = moe_softmax_p(lr[picked[t]], m, sum, experts, infCount);
            total += weights[t];
        }
        if (mode == MOE_SOFTMAX_RENORM && total > 0.0f) {
            for (int t = 0; t < k; t++) weights[t] = moe_div(weights[t], total);
        }
    }
}

#define MOE_KERNELS(NAME, LOAD, LOAD4)                                                                                  \
/* groups (rows); logits [rows, experts], ids and weights [rows, k] */                                                 \
__kernel void moe_route_##NAME(__global const float *x, __global const uchar *gate, __global const float *gateScale,  \
                               int gateScaleStride, long cols, int experts, int k, int mode,                          \
                               __global const moe_real *bias, __global float *logits, __global int *ids,              \
                               __global float *weights, __local float *red) {                                         \
    int r = get_group_id(0);                                                                                           \
    __global const float *xr = x + (long) r * cols;                                                                    \
    __global float *lr = logits + (long) r * experts;                                                                  \
    for (int e = 0; e < experts; e++) {                                                                                \
        float part;                                                                                                    \
        PARTIAL_DOT(LOAD, LOAD4, gate, e, xr, cols, part)                                                          \
        float logit = group_sum(part, red) * gateScale[e * gateScaleStride];                                       \
        if (get_local_id(0) == 0) lr[e] = logit;                                                                       \
    }                                                                                                                  \
    if (get_local_id(0) == 0) moe_route_row(lr, experts, k, mode, bias, ids + (long) r * k, weights + (long) r * k);  \
}                                                                                                                      \
                                                                                                                       \
/* groups (width, rows * k); h [rows * k, width] */                                                                    \
__kernel void moe_up_##NAME(__global const float *x, int k, __global const int *ids, long idsOff,                     \
                            __global const uchar *w1, __global const float *s1, __global const uchar *w3,             \
                            __global const float *s3, long stride, int scaleCount, int scaleStride, long cols,        \
                            long width, __global float *h, __local float *red) {                                      \
    long j = get_group_id(0);                                                                                          \
    long p = get_group_id(1);                                                                                          \
    int id = ids[idsOff + p];                                                                                          \
    int e = max(id, 0);                 /* a padded choice (-1) computes expert 0 and writes nothing: no early  */    \
    __global const float *xr = x + (p / k) * cols;  /* return before the barriers, which PoCL handles slowly */    \
    float g, u;                                                                                                        \
    PARTIAL_DOT(LOAD, LOAD4, w1 + e * stride, j, xr, cols, g)                                                          \
    PARTIAL_DOT(LOAD, LOAD4, w3 + e * stride, j, xr, cols, u)                                                          \
    g = group_sum(g, red) * s1[(long) e * scaleCount + j * scaleStride];                                               \
    u = group_sum(u, red) * s3[(long) e * scaleCount + j * scaleStride];                                               \
    if (get_local_id(0) == 0 && id >= 0) h[p * width + j] = silu_mul(g, u);                                            \
}                                                                                                                      \
                                                                                                                       \
/* groups (hidden, rows); dst [rows, hidden] += the row's weighted expert outputs */                                   \
__kernel void moe_down_##NAME(__global const float *h, int k, __global const int *ids, long idsOff,                   \
                              __global const float *weights, long weightsOff, __global const uchar *w2,               \
                              __global const float *s2, long stride, int scaleCount, int scaleStride, long width,     \
                              long hidden, __global float *dst, __local float *red) {                                 \
    long o = get_group_id(0);                                                                                          \
    long r = get_group_id(1);                                                                                          \
    __global const int *ir = ids + idsOff + r * k;                                                                     \
    float acc = dst[r * hidden + o];                                                                                   \
    int last = -1, lastSlot = -1;                                                                                      \
    /* k rounds whatever the ids (a trip count PoCL sees as uniform around the barriers); a round without a next */    \
    /* choice computes expert 0 and adds nothing */                                                                    \
    for (int n = 0; n < k; n++) {                                                                                      \
        /* the next choice after (last, lastSlot) in (expert, slot) order: the same for the whole group */             \
        int pick = -1;                                                                                                 \
        for (int t = 0; t < k; t++) {                                                                                  \
            int after = ir[t] > last || (ir[t] == last && t > lastSlot);                                               \
            if (ir[t] >= 0 && after && (pick < 0 || ir[t] < ir[pick])) pick = t;                                       \
        }                                                                                                              \
        int e = pick < 0 ? 0 : ir[pick];                                                                               \
        long p = r * k + max(pick, 0);                                                                                 \
        float part;                                                                                                    \
        PARTIAL_DOT(LOAD, LOAD4, w2 + e * stride, o, h + p * width, width, part)                                       \
        float y = group_sum(part, red) * s2[(long) e * scaleCount + o * scaleStride];                                  \
        if (pick >= 0) {                                                                                               \
            acc += weights[weightsOff + p] * y;                                                                        \
            last = e;                                                                                                  \
            lastSlot = pick;                                                                                           \
        }                                                                                                              \
    }                                                                                                                  \
    if (get_local_id(0) == 0) dst[r * hidden + o] = acc;                                                               \
}

MOE_KERNELS(f32, LOAD_F32, LOAD4_F32)
MOE_KERNELS(f16, LOAD_F16, LOAD4_F16)
MOE_KERNELS(bf16, LOAD_BF16, LOAD4_BF16)
MOE_KERNELS(e4m3, LOAD_E4M3, LOAD4_E4M3_SELECT)
MOE_KERNELS(e5m2, LOAD_E5M2, LOAD4_E5M2)
