// gemm.cl: C = act(alpha op(A) op(B) + beta C), row-major float32, strided batches.
//
// Shapes: op(A): [M, K], op(B): [K, N], C: [M, N]; A is stored [K, M] when transA, B is stored
// [N, K] when transB; lda, ldb, ldc are the row strides as stored. Batch z starts at
// offX + z * strideX in each operand. beta == 0 overwrites C without reading it (BLAS: a NaN in C
// does not leak). act: 0 identity, 1 tanh, 2 relu, applied to the final value, so the recurrent
// step h = act(pre + hPrev W_hh^T) is this kernel with C = pre = h, beta = 1, transB = 1: one launch
// per time step, the activation fused into the epilogue (pre already holds the input projection
// and both biases). Each output is read and written by the same work item, so C may be updated in place.
//
// Launch: local (TSN / WPTN, TSM / WPTM, 1); global (ceil(N / TSN) * TSN / WPTN,
// ceil(M / TSM) * TSM / WPTM, batches). Dimension 0 runs along N so that neighbouring work items
// touch neighbouring columns of C and of a row-major B.
//
// Tiling (after Nugteren's myGEMM and CLBlast's Xgemm): each work group owns a TSM x TSN tile of C
// and walks K in steps of TSK. Per step the group copies a TSK x TSM slab of op(A) and a TSK x TSN
// slab of op(B) into local memory, each element loaded once by one work item (zero outside the
// matrix, so awkward sizes need no special path), then every work item computes a WPTM x WPTN block
// of outputs from it in registers. Why:
//  - Local memory: each element of A is read from global memory once per tile column instead of
//    once per output, and once per tile row for B; with 64 x 64 tiles that divides global traffic
//    by 64.
//  - Register blocking: per k a work item loads WPTM + WPTN values from local memory and does
//    WPTM * WPTN multiply-adds (8 loads for 16 FMAs with 4 x 4), so local memory bandwidth is not
//    the limit, as it is with one output per work item (2 loads per FMA).
//  - Strided blocks: a work item's outputs are rows tm + w * (TSM / WPTM) and columns
//    tn + w * (TSN / WPTN), so at each step neighbouring work items read neighbouring local
//    addresses (no bank conflicts) and write neighbouring columns of C (coalesced).
//  - Slab loads follow the stored layout: consecutive work items read consecutive addresses of A and
//    B whether or not the operand is transposed; the transpose happens on the way into local memory.
// The host picks the sizes for the device and passes them as -D defines; the defaults below are the
// GPU choice (256 work items, 8 KiB of local memory per group).

#ifndef TSM
#define TSM 64
#endif
#ifndef TSN
#define TSN 64
#endif
#ifndef TSK
#define TSK 16
#endif
#ifndef WPTM
#define WPTM 4
#endif
#ifndef WPTN
#define WPTN 4
#endif

#define RTSM (TSM / WPTM)         // work items along M
#define RTSN (TSN / WPTN)         // work items along N
#define GROUP_ITEMS (RTSM * RTSN)

#define ACT_NONE 0
#define ACT_TANH 1
#define ACT_RELU 2

__kernel void gemm(const int transA, const int transB, const int M, const int N, const int K,
                   const float alpha, const float beta, const int act,
                   const __global float* A, const idx_t offA, const int lda, const idx_t strideA,
                   const __global float* B, const idx_t offB, const int ldb, const idx_t strideB,
                   __global float* C, const idx_t offC, const int ldc, const idx_t strideC)
{
    const int tn = (int)get_local_id(0);
    const int tm = (int)get_local_id(1);
    const int tid = tm * RTSN + tn;
    const int n0 = (int)get_group_id(0) * TSN;
    const int m0 = (int)get_group_id(1) * TSM;
    const idx_t z = (idx_t)get_group_id(2);
    A += offA + z * strideA;
    B += offB + z * strideB;
    C += offC + z * strideC;

    __local float As[TSK][TSM];   // As[k][m] = op(A)(m0 + m, k0 + k)
    __local float Bs[TSK][TSN];   // Bs[k][n] = op(B)(k0 + k, n0 + n)

    float acc[WPTM][WPTN];
#pragma unroll
    for (int wm = 0; wm < WPTM; wm++)
#pragma unroll
        for (int wn = 0; wn < WPTN; wn++)
            acc[wm][wn] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += TSK) {
        for (int l = tid; l < TSK * TSM; l += GROUP_ITEMS) {
            // Stored [M, K]: walk k fastest; stored [K, M]: walk m fastest.
            const int kk = transA ? l / TSM : l % TSK;
            const int mm = transA ? l % TSM : l / TSK;
            const int gm = m0 + mm, gk = k0 + kk;
            float v = 0.0f;
            if (gm < M && gk < K)
                v = transA ? A[(idx_t)gk * lda + gm] : A[(idx_t)gm * lda + gk];
            As[kk][mm] = v;
        }
        for (int l = tid; l < TSK * TSN; l += GROUP_ITEMS) {
            // Stored [K, N]: walk n fastest; stored [N, K]: walk k fastest.
            const int kk = transB ? l % TSK : l / TSN;
            const int nn = transB ? l / TSK : l % TSN;
            const int gn = n0 + nn, gk = k0 + kk;
            float v = 0.0f;
            if (gn < N && gk < K)
                v = transB ? B[(idx_t)gn * ldb + gk] : B[(idx_t)gk * ldb + gn];
            Bs[kk][nn] = v;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

#pragma unroll
        for (int k = 0; k < TSK; k++) {
            float a[WPTM], b[WPTN];
#pragma unroll
            for (int wm = 0; wm < WPTM; wm++) a[wm] = As[k][tm + wm * RTSM];
#pragma unroll
            for (int wn = 0; wn < WPTN; wn++) b[wn] = Bs[k][tn + wn * RTSN];
#pragma unroll
            for (int wm = 0; wm < WPTM; wm++)
#pragma unroll
                for (int wn = 0; wn < WPTN; wn++)
                    acc[wm][wn] += a[wm] * b[wn];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

#pragma unroll
    for (int wm = 0; wm < WPTM; wm++) {
        const int gm = m0 + tm + wm * RTSM;
        if (gm >= M) continue;
#pragma unroll
        for (int wn = 0; wn < WPTN; wn++) {
            const int gn = n0 + tn + wn * RTSN;
            if (gn >= N) continue;
            const idx_t ci = (idx_t)gm * ldc + gn;
            float v = alpha * acc[wm][wn];
            if (beta != 0.0f) v += beta * C[ci];
            if (act == ACT_TANH) v = tanh(v);
            else if (act == ACT_RELU) v = v < 0.0f ? 0.0f : v;   // keeps a NaN, as max(v, 0) on the CPU does
            C[ci] = v;
        }
    }
}
