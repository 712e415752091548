// rnn_step.cl: the elementwise half of one BPTT step, RnnStepBackward's first launch.
//
//   dPre = (dPre + dhNext) * act'(h)        h, dhNext, dPre: [batch, hidden], flat n = batch * hidden
//
// act' is written in terms of the step's output h, so the pre-activation need not be kept:
// tanh' = 1 - h^2, relu' = (h > 0). The second launch, dhPrev = dPre W_hh, is gemm.cl. (The forward
// step is gemm.cl too, with the activation in its epilogue.)
//
// Launch: 1-D, GROUP work items per group, a grid-stride loop over n (any number of groups works).
// Memory-bound: one pass, three reads and one write per element, coalesced.

#define ACT_TANH 1
#define ACT_RELU 2

__kernel void rnn_step_backward_act(const int act, const idx_t n,
                                    const __global float* h, const idx_t offH,
                                    const __global float* dhNext, const idx_t offN,
                                    __global float* dPre, const idx_t offP)
{
    for (idx_t i = get_global_id(0); i < n; i += get_global_size(0)) {
        const float g = dPre[offP + i] + dhNext[offN + i];
        const float y = h[offH + i];
        dPre[offP + i] = act == ACT_TANH ? g * (1.0f - y * y) : (y > 0.0f ? g : 0.0f);
    }
}
