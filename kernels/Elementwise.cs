using ILGPU;
using ILGPU.Algorithms;

namespace RnnGpu.Kernels;

/// <summary>
/// One pass over memory each, memory-bound, consecutive threads on consecutive elements:
///   Fill:      y[i] = value                           y: [n]
///   AddBias:   y[r, c] += bias[c]                     y: [rows, cols] flat n = rows * cols, bias: [cols]
///   Scale:     x[i] *= alpha                          x: [n] (gradient clipping)
///   Multiply:  y[i] = a[i] b[i]                       a, b, y: [n] (dropout masks); y may be a
///   StepBackwardAct: dPre = (dPre + dhNext) act'(h)   h, dhNext, dPre: [batch, hidden] flat n
///     act' written in terms of the step's output h, so the pre-activation need not be kept: tanh' = 1 - h²,
///     relu' = (h > 0). The second half of a backward step, dhPrev = dPre W_hh, is a <see cref="Gemm"/>.
/// Launch: 1-D, any number of groups of any size; each thread takes a grid-stride share, so the host caps the
/// groups at what fills the device and one launch covers any length.
/// </summary>
public static class Elementwise
{
    /// <summary>The grid-stride loop's first index and stride.</summary>
    private static long First => Grid.GlobalLinearIndex;

    private static long Stride => (long)Grid.DimX * Group.DimX;

    public static void AddBias(ArrayView<float> y, ArrayView<float> bias, long n, int cols)
    {
        for (long i = First; i < n; i += Stride) y[i] += bias[(int)(i % cols)];
    }

    public static void Fill(ArrayView<float> y, long n, float value)
    {
        for (long i = First; i < n; i += Stride) y[i] = value;
    }

    public static void Scale(ArrayView<float> x, long n, float alpha)
    {
        for (long i = First; i < n; i += Stride) x[i] *= alpha;
    }

    public static void Multiply(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, long n)
    {
        for (long i = First; i < n; i += Stride) y[i] = a[i] * b[i];
    }

    public static void StepBackwardAct(ArrayView<float> h, ArrayView<float> dhNext, ArrayView<float> dPre, long n, int act)
    {
        for (long i = First; i < n; i += Stride)
        {
            float g = dPre[i] + dhNext[i], y = h[i];
            dPre[i] = act == Act.Tanh ? g * (1f - y * y) : (y > 0f ? g : 0f);
        }
    }

    /// <summary>loss = (p - t)², dPred = gradScale 2 (p - t).   [n]</summary>
    public static void MseLoss(ArrayView<float> pred, ArrayView<float> target, ArrayView<float> dPred, ArrayView<float> loss, long n, float gradScale)
    {
        for (long i = First; i < n; i += Stride)
        {
            float d = pred[i] - target[i];
            loss[i] = d * d;
            dPred[i] = 2f * gradScale * d;
        }
    }

    /// <summary>loss = max(x, 0) - x t + log(1 + e^{-|x|}), dLogits = gradScale (sigmoid(x) - t).   [n]</summary>
    public static void BceWithLogitsLoss(ArrayView<float> logits, ArrayView<float> target, ArrayView<float> dLogits, ArrayView<float> loss, long n, float gradScale)
    {
        for (long i = First; i < n; i += Stride)
        {
            float x = logits[i], t = target[i];
            loss[i] = XMath.Max(x, 0f) - x * t + XMath.Log(1f + XMath.Exp(-XMath.Abs(x)));
            dLogits[i] = gradScale * (1f / (1f + XMath.Exp(-x)) - t);
        }
    }

    /// <summary>
    /// Softmax cross-entropy, one thread per row (a grid-stride loop over rows): loss[r] = log Σ_k e^{logits[r, k]} -
    /// logits[r, target] (the max subtracted first), dLogits = gradScale (softmax(logits) - onehot(target)).
    /// logits, dLogits: [rows, classes]; targets: [rows], class ids as floats. classes is a vocabulary (tens to a few
    /// hundred), short enough for one thread; its three passes (max, exp and sum, scale) stay in cache. A target that
    /// is not a class id in [0, classes) gives its row a NaN loss and gradient rather than a read out of bounds.
    /// </summary>
    public static void SoftmaxCrossEntropy(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> dLogits, ArrayView<float> loss,
        int rows, int classes, float gradScale)
    {
        for (long r = First; r < rows; r += Stride)
        {
            long row = r * classes;
            float id = targets[r];
            if (!(id >= 0f && id < classes && id == XMath.Floor(id)))
            {
                loss[r] = float.NaN;
                for (int k = 0; k < classes; k++) dLogits[row + k] = float.NaN;
                continue;
            }
            int t = (int)id;
            float max = logits[row];
            for (int k = 1; k < classes; k++) max = XMath.Max(max, logits[row + k]);
            float sum = 0f;
            for (int k = 0; k < classes; k++)
            {
                float e = XMath.Exp(logits[row + k] - max);
                dLogits[row + k] = e;
                sum += e;
            }
            loss[r] = XMath.Log(sum) + max - logits[row + t];
            float scale = gradScale / sum;
            for (int k = 0; k < classes; k++) dLogits[row + k] *= scale;
            dLogits[row + t] -= gradScale;
        }
    }
}
