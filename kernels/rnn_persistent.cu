// rnn_persistent.cu: the whole recurrence of one layer in one launch, W_hh kept on chip (CUDA only).
//
//   forward:   h_t = act(pre_t + h_{t-1} W_hh^T),  t = 1 .. T
//              h0: [B, H]; states: [T, B, H], pre_1..pre_T in, h_1..h_T out (in place); W_hh: [H, H]
//   backward:  for t = T .. 1:  dPre_t = (dPre_t + dh_t) * act'(h_t);  dh_{t-1} = dPre_t W_hh
//              h: [T, B, H] = h_1..h_T; dPre: [T, B, H], dL/dh_t from above in, dL/dpre_t out;
//              dh: [B, H], dh_T (the gradient of the final state from outside the layer) in, dh_0 out
//   reverse = 1 runs the steps in the other order (the reverse direction of a bidirectional layer):
//   block t of states follows block t + 1, and h0 feeds block T - 1.
//
// The standard path launches one GEMM per step (two kernels per step backwards), and at small batch
// each launch is a few blocks that reload W_hh from L2: the step is bound by launch latency and by
// reading H*H weights, not by arithmetic. Here (after Diamos et al. 2016, "Persistent RNNs") one
// cooperative launch runs every step: block g owns the hidden units [g J, g J + J) and holds the J
// rows of W_hh it needs (forward: rows j of W_hh; backward: columns k, stored transposed) in shared
// memory for the whole sequence, so W_hh is read from global memory once per launch, not once per
// step. Between steps a grid-wide barrier makes the new state visible to every block.
//
// Why a CUDA-only file and not the portable subset: the barrier needs atomics on global memory, a
// co-resident grid (cuLaunchCooperativeKernel guarantees it, or refuses to launch), loads that bypass
// the incoherent L1 (__ldcg) and dynamic shared memory, none of which the OpenCL 1.2 subset of
// kernels/*.cl can express. The barrier is written here with one atomic counter rather than
// cooperative_groups::grid_group::sync(), because NVRTC has no cooperative_groups header without the
// full toolkit's include directory.
//
// Launch: 1-D grid of G = ceil(H / J) blocks of PERSIST_THREADS threads, cooperative; dynamic shared
// memory (J*H + S*B*J + B*J) floats; arrived: one zeroed uint in global memory (the barrier counter).
// The host picks J in {1, 2, 4, 8, 16} (the entry point rnn_persistent_{forward,backward}_J) so that
// G blocks fit on the device at once, and S, the number of warps that share one batch row's dot
// products (S = 1 when B >= warps per block).
//
// Per step, each warp takes (batch row b, split s) tasks: its lanes walk k = s H/S + lane, stepping
// by 32, and accumulate all J outputs of the block for row b at once (one load of h_{t-1}[b, k] feeds
// J multiply-adds from shared memory, consecutive lanes read consecutive shared addresses: no bank
// conflicts); a shuffle tree sums the lanes, the S splits are added in a fixed order, so the result
// is the same run after run.

#define PERSIST_THREADS 256
#define PERSIST_WARPS (PERSIST_THREADS / 32)

#define ACT_TANH 1
#define ACT_RELU 2

// Every block arrives once per barrier; barrier n (1, 2, ...) waits for n * gridDim.x arrivals. The
// counter only grows within a launch (the host zeroes it before each), so no reset race exists.
__device__ __forceinline__ void grid_barrier(unsigned int* arrived, unsigned int target)
{
    __syncthreads();
    if (threadIdx.x == 0) {
        __threadfence();                      // this block's writes are visible device-wide before it arrives
        atomicAdd(arrived, 1u);
        while (*(volatile unsigned int*)arrived < target) { }
        __threadfence();
    }
    __syncthreads();
}

__device__ __forceinline__ float warp_sum(float v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// red[(s B + b) J + jj] = sum over k in split s of x[b, k] * ws[jj H + k], for every (b, s) task.
// x is read with __ldcg: it was written by other blocks during this launch, and L1 is not coherent.
template <int J>
__device__ __forceinline__ void block_products(const int B, const int H, const int S,
                                               const float* x, const float* ws, float* red)
{
    const int lane = (int)threadIdx.x & 31, warp = (int)threadIdx.x >> 5;
    for (int task = warp; task < B * S; task += PERSIST_WARPS) {
        const int b = task / S, s = task - b * S;
        const int kBegin = (int)((long long)s * H / S), kEnd = (int)((long long)(s + 1) * H / S);
        const float* row = x + (idx_t)b * H;
        float acc[J];
#pragma unroll
        for (int jj = 0; jj < J; jj++) acc[jj] = 0.0f;
        for (int k = kBegin + lane; k < kEnd; k += 32) {
            const float v = __ldcg(row + k);
#pragma unroll
            for (int jj = 0; jj < J; jj++) acc[jj] += v * ws[jj * H + k];
        }
#pragma unroll
        for (int jj = 0; jj < J; jj++) {
            const float sum = warp_sum(acc[jj]);
            if (lane == 0) red[(s * B + b) * J + jj] = sum;
        }
    }
}

template <int J>
__device__ void sequence_forward(const int act, const int reverse, const int B, const int H, const int T, const int S,
                                 const float* h0, const float* w, float* states, unsigned int* arrived)
{
    extern __shared__ float smem[];
    float* ws = smem;                  // [J][H]: ws[jj H + k] = W_hh[j0 + jj, k], zero past H
    float* red = smem + J * H;         // [S][B][J] partial sums
    const int j0 = (int)blockIdx.x * J;
    const int count = min(J, H - j0);
    for (int i = (int)threadIdx.x; i < J * H; i += PERSIST_THREADS) {
        const int jj = i / H;
        ws[i] = jj < count ? w[(idx_t)j0 * H + i] : 0.0f;
    }
    __syncthreads();
    const idx_t BH = (idx_t)B * H;
    for (int step = 0; step < T; step++) {
        const int t = reverse ? T - 1 - step : step;
        const float* hPrev = step == 0 ? h0 : states + (reverse ? t + 1 : t - 1) * BH;
        float* h = states + t * BH;
        block_products<J>(B, H, S, hPrev, ws, red);
        __syncthreads();
        for (int i = (int)threadIdx.x; i < B * count; i += PERSIST_THREADS) {
            const int b = i / count, jj = i - b * count;
            const idx_t at = (idx_t)b * H + j0 + jj;
            float v = h[at];           // pre_t, written before this launch
            for (int s = 0; s < S; s++) v += red[(s * B + b) * J + jj];
            h[at] = act == ACT_TANH ? tanhf(v) : (v < 0.0f ? 0.0f : v);   // relu keeps a NaN, as the gemm epilogue does
        }
        if (step + 1 < T) grid_barrier(arrived, (unsigned int)(step + 1) * gridDim.x);
    }
}

template <int J>
__device__ void sequence_backward(const int act, const int reverse, const int B, const int H, const int T, const int S,
                                  const float* hs, const float* w, float* dPre, float* dhIO, unsigned int* arrived)
{
    extern __shared__ float smem[];
    float* ws = smem;                  // [J][H]: ws[kk H + j] = W_hh[j, k0 + kk] (columns, transposed), zero past H
    float* red = smem + J * H;         // [S][B][J] partial sums
    float* dh = red + S * B * J;       // [B][J]: dh_t of this block's units, carried from step to step
    const int k0 = (int)blockIdx.x * J;
    const int count = min(J, H - k0);
    for (int i = (int)threadIdx.x; i < J * H; i += PERSIST_THREADS) {
        const int j = i / J, kk = i - j * J;  // read along rows of W_hh (J consecutive floats), write transposed
        ws[kk * H + j] = kk < count ? w[(idx_t)j * H + k0 + kk] : 0.0f;
    }
    for (int i = (int)threadIdx.x; i < B * J; i += PERSIST_THREADS) {
        const int b = i / J, kk = i - b * J;
        dh[i] = kk < count ? dhIO[(idx_t)b * H + k0 + kk] : 0.0f;   // dh_T: this block's units only
    }
    __syncthreads();
    const idx_t BH = (idx_t)B * H;
    for (int step = T - 1; step >= 0; step--) {
        const int t = reverse ? T - 1 - step : step;
        float* dp = dPre + t * BH;
        const float* h = hs + t * BH;
        for (int i = (int)threadIdx.x; i < B * count; i += PERSIST_THREADS) {
            const int b = i / count, kk = i - b * count;
            const idx_t at = (idx_t)b * H + k0 + kk;
            const float g = dp[at] + dh[b * J + kk];
            const float y = h[at];
            dp[at] = act == ACT_TANH ? g * (1.0f - y * y) : (y > 0.0f ? g : 0.0f);
        }
        grid_barrier(arrived, (unsigned int)(T - step) * gridDim.x);
        block_products<J>(B, H, S, dp, ws, red);
        __syncthreads();
        for (int i = (int)threadIdx.x; i < B * count; i += PERSIST_THREADS) {
            const int b = i / count, kk = i - b * count;
            float v = 0.0f;
            for (int s = 0; s < S; s++) v += red[(s * B + b) * J + kk];
            dh[b * J + kk] = v;
        }
        __syncthreads();
    }
    for (int i = (int)threadIdx.x; i < B * count; i += PERSIST_THREADS) {
        const int b = i / count, kk = i - b * count;
        dhIO[(idx_t)b * H + k0 + kk] = dh[b * J + kk];
    }
}

// Entry points, one per J. Arguments follow the portable kernels' convention: every buffer is a
// pointer and an offset in floats.
#define PERSISTENT_ENTRY_POINTS(J)                                                                        \
extern "C" __global__ void __launch_bounds__(PERSIST_THREADS)                                             \
rnn_persistent_forward_##J(const int act, const int reverse, const int B, const int H, const int T,    \
                           const int S, const float* h0, const idx_t offH0, const float* w,             \
                           const idx_t offW, float* states, const idx_t offS,                           \
                           unsigned int* arrived, const idx_t offA)                                     \
{                                                                                                         \
    sequence_forward<J>(act, reverse, B, H, T, S, h0 + offH0, w + offW, states + offS, arrived + offA);  \
}                                                                                                         \
extern "C" __global__ void __launch_bounds__(PERSIST_THREADS)                                             \
rnn_persistent_backward_##J(const int act, const int reverse, const int B, const int H, const int T,   \
                            const int S, const float* hs, const idx_t offH, const float* w,             \
                            const idx_t offW, float* dPre, const idx_t offD, float* dh,                 \
                            const idx_t offDh, unsigned int* arrived, const idx_t offA)                 \
{                                                                                                         \
    sequence_backward<J>(act, reverse, B, H, T, S, hs + offH, w + offW, dPre + offD, dh + offDh,         \
                         arrived + offA);                                                                 \
}

PERSISTENT_ENTRY_POINTS(1)
PERSISTENT_ENTRY_POINTS(2)
PERSISTENT_ENTRY_POINTS(4)
PERSISTENT_ENTRY_POINTS(8)
PERSISTENT_ENTRY_POINTS(16)
