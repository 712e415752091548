// optimizers.cl: parameter updates on one flat vector, the rules of torch.optim.
//
// sgd_update:  d = grad + wd param; with momentum: d = first ? d : momentum buf + d, buf = d;
//              param -= lr d.                                       param, grad, buf: [n]
// adam_update: g = grad + wd param; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
//              param -= stepSize m / (sqrt(v) / bc2sqrt + eps)      param, grad, m, v: [n]
//              stepSize = lr / (1 - b1^t) and bc2sqrt = sqrt(1 - b2^t) come from the host.
//
// Launch: 1-D, GROUP per group, a grid-stride loop over n. Memory-bound: each element is read and
// written once per step.

__kernel void sgd_update(const idx_t n, const float lr, const float momentum, const float weightDecay,
                         const int firstStep,
                         __global float* param, const idx_t offP,
                         const __global float* grad, const idx_t offG,
                         __global float* buf, const idx_t offM)
{
    for (idx_t i = get_global_id(0); i < n; i += get_global_size(0)) {
        const float p = param[offP + i];
        float d = grad[offG + i] + weightDecay * p;
        if (momentum != 0.0f) {
            d = firstStep ? d : momentum * buf[offM + i] + d;
            buf[offM + i] = d;
        }
        param[offP + i] = p - lr * d;
    }
}

__kernel void adam_update(const idx_t n, const float beta1, const float beta2, const float epsilon,
                          const float weightDecay, const float stepSize, const float bc2sqrt,
                          __global float* param, const idx_t offP,
                          const __global float* grad, const idx_t offG,
                          __global float* m, const idx_t offM,
                          __global float* v, const idx_t offV)
{
    for (idx_t i = get_global_id(0); i < n; i += get_global_size(0)) {
        const float p = param[offP + i];
        const float g = grad[offG + i] + weightDecay * p;
        const float mi = beta1 * m[offM + i] + (1.0f - beta1) * g;
        const float vi = beta2 * v[offV + i] + (1.0f - beta2) * g * g;
        m[offM + i] = mi;
        v[offV + i] = vi;
        const float denom = sqrt(vi) / bc2sqrt + epsilon;
        param[offP + i] = p - stepSize * (mi / denom);
    }
}
