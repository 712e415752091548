using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace RnnGpu.Accelerators.Cpu;

/// <summary>Element-wise and row-wise kernels of the CPU back end: activation backward, losses, optimizers, norms.</summary>
internal static class CpuElementwise
{
    /// <summary>dPre = (dPre + dhNext) * act'(h), act' written from the output h.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ActivationBackward(Activation act, ReadOnlySpan<float> h, ReadOnlySpan<float> dhNext, Span<float> dPre)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256.Create(1f);
            for (; i + 8 <= dPre.Length; i += 8)
            {
                var hv = Vector256.Create(h.Slice(i, 8));
                var g = Vector256.Create(dPre.Slice(i, 8)) + Vector256.Create(dhNext.Slice(i, 8));
                var d = act == Activation.Tanh
                    ? g * (one - hv * hv)
                    : Vector256.ConditionalSelect(Vector256.GreaterThan(hv, Vector256<float>.Zero), g, Vector256<float>.Zero);
                d.CopyTo(dPre.Slice(i, 8));
            }
        }
        for (; i < dPre.Length; i++)
        {
            float g = dPre[i] + dhNext[i];
            dPre[i] = act == Activation.Tanh ? g * (1f - h[i] * h[i]) : (h[i] > 0f ? g : 0f);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftmaxCrossEntropy(int rows, int classes, ReadOnlySpan<float> logits, ReadOnlySpan<float> targets,
        Span<float> dLogits, Span<float> loss, float gradScale)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * classes, classes);
            var grad = dLogits.Slice(r * classes, classes);
            float id = targets[r];
            if (!(id >= 0 && id < classes && id == MathF.Floor(id)))
            {
                loss[r] = float.NaN;   // not a class id: poison the row rather than read outside it
                grad.Fill(float.NaN);
                continue;
            }
            float max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, grad);
            TensorPrimitives.Exp(grad, grad);
            float sum = TensorPrimitives.Sum(grad);
            int target = (int)id;
            loss[r] = MathF.Log(sum) + max - row[target];
            TensorPrimitives.Multiply(grad, gradScale / sum, grad);
            grad[target] -= gradScale;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MseLoss(ReadOnlySpan<float> pred, ReadOnlySpan<float> target, Span<float> dPred, Span<float> loss, float gradScale)
    {
        CpuVectors.Subtract(pred, target, dPred);
        CpuVectors.Multiply(dPred, dPred, loss);
        CpuVectors.Scale(dPred, 2f * gradScale, dPred);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BceWithLogitsLoss(ReadOnlySpan<float> logits, ReadOnlySpan<float> target, Span<float> dLogits, Span<float> loss, float gradScale)
    {
        for (int i = 0; i < logits.Length; i++)
        {
            float x = logits[i], t = target[i];
            loss[i] = MathF.Max(x, 0f) - x * t + MathF.Log(1f + MathF.Exp(-MathF.Abs(x)));
            dLogits[i] = gradScale * (1f / (1f + MathF.Exp(-x)) - t);
        }
    }

    /// <summary>Σ x^2 accumulated in double, so that gradients up to float's range never overflow the sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SquaredNorm(ReadOnlySpan<float> x)
    {
        var acc0 = Vector256<double>.Zero;
        var acc1 = Vector256<double>.Zero;
        int i = 0;
        for (; i + 8 <= x.Length; i += 8)
        {
            var (lo, hi) = Vector256.Widen(Vector256.Create(x.Slice(i, 8)));
            acc0 = Vector256.FusedMultiplyAdd(lo, lo, acc0);
            acc1 = Vector256.FusedMultiplyAdd(hi, hi, acc1);
        }
        double sum = Vector256.Sum(acc0 + acc1);
        for (; i < x.Length; i++) sum += (double)x[i] * x[i];
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SgdUpdate(Span<float> param, ReadOnlySpan<float> grad, Span<float> momentum, in SgdStep s)
    {
        for (int i = 0; i < param.Length; i++)
        {
            float d = grad[i] + s.WeightDecay * param[i];
            if (s.Momentum != 0f)
            {
                d = s.FirstStep ? d : s.Momentum * momentum[i] + d;
                momentum[i] = d;
            }
            param[i] -= s.LearningRate * d;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AdamUpdate(Span<float> param, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, in AdamStep s)
    {
        for (int i = 0; i < param.Length; i++)
        {
            float g = grad[i] + s.WeightDecay * param[i];
            float mi = s.Beta1 * m[i] + (1f - s.Beta1) * g;
            float vi = s.Beta2 * v[i] + (1f - s.Beta2) * g * g;
            m[i] = mi;
            v[i] = vi;
            float denom = MathF.Sqrt(vi) / s.BiasCorrection2Sqrt + s.Epsilon;
            param[i] -= s.StepSize * (mi / denom);
        }
    }
}
