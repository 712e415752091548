// losses.cl: the three losses, each writing the per-element (or per-row) loss and the gradient
// of the scaled loss in one pass. The host sums the loss vector.
//
// softmax_cross_entropy: logits, dLogits: [rows, classes]; targets: [rows] class ids as floats;
//   loss[r] = log sum_k exp(logits[r, k]) - logits[r, target]  (max subtracted first),
//   dLogits = gradScale (softmax(logits) - onehot(target)).
//   Launch: 1-D, one work item per row, GROUP per group, a grid-stride loop over rows. classes is a
//   vocabulary (tens to a few hundred), so a row is short enough for one work item; three passes
//   over the row (max, exp and sum, scale) stay in cache. A target that is not a class id in
//   [0, classes) gives the row a NaN loss and gradient instead of an access out of bounds.
// mse_loss:             loss = (p - t)^2, dPred = gradScale 2 (p - t).                   [n]
// bce_with_logits_loss: loss = max(x, 0) - x t + log(1 + exp(-|x|)),
//                       dLogits = gradScale (sigmoid(x) - t).                           [n]
//   Launch: 1-D, GROUP per group, a grid-stride loop over n. Memory-bound.

__kernel void softmax_cross_entropy(const int rows, const int classes, const float gradScale,
                                    const __global float* logits, const idx_t offL,
                                    const __global float* targets, const idx_t offT,
                                    __global float* dLogits, const idx_t offD,
                                    __global float* loss, const idx_t offLoss)
{
    for (idx_t r = get_global_id(0); r < rows; r += get_global_size(0)) {
        const __global float* row = logits + offL + r * classes;
        __global float* grad = dLogits + offD + r * classes;
        const float id = targets[offT + r];
        if (!(id >= 0.0f && id < (float)classes && id == floor(id))) {
            // Not a class id: poison the row (NaN loss and gradient) rather than read outside it.
            const float nan = 0.0f / 0.0f;
            loss[offLoss + r] = nan;
            for (int k = 0; k < classes; k++) grad[k] = nan;
            continue;
        }
        const int t = (int)id;
        float mx = row[0];
        for (int k = 1; k < classes; k++) mx = fmax(mx, row[k]);
        float sum = 0.0f;
        for (int k = 0; k < classes; k++) {
            const float e = exp(row[k] - mx);
            grad[k] = e;
            sum += e;
        }
        loss[offLoss + r] = log(sum) + mx - row[t];
        const float s = gradScale / sum;
        for (int k = 0; k < classes; k++) grad[k] *= s;
        grad[t] -= gradScale;
    }
}

__kernel void mse_loss(const idx_t n, const float gradScale,
                       const __global float* pred, const idx_t offP,
                       const __global float* target, const idx_t offT,
                       __global float* dPred, const idx_t offD,
                       __global float* loss, const idx_t offLoss)
{
    for (idx_t i = get_global_id(0); i < n; i += get_global_size(0)) {
        const float d = pred[offP + i] - target[offT + i];
        loss[offLoss + i] = d * d;
        dPred[offD + i] = 2.0f * gradScale * d;
    }
}

__kernel void bce_with_logits_loss(const idx_t n, const float gradScale,
                                   const __global float* logits, const idx_t offX,
                                   const __global float* target, const idx_t offT,
                                   __global float* dLogits, const idx_t offD,
                                   __global float* loss, const idx_t offLoss)
{
    for (idx_t i = get_global_id(0); i < n; i += get_global_size(0)) {
        const float x = logits[offX + i], t = target[offT + i];
        loss[offLoss + i] = fmax(x, 0.0f) - x * t + log1p(exp(-fabs(x)));
        dLogits[offD + i] = gradScale * (1.0f / (1.0f + exp(-x)) - t);
    }
}
