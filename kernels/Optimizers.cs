using ILGPU;
using ILGPU.Algorithms;

namespace RnnGpu.Kernels;

/// <summary>
/// Parameter updates on one flat vector, the rules of torch.optim:
///   SgdUpdate:  d = grad + wd param; with momentum: d = first ? d : momentum buf + d, buf = d; param -= lr d.
///   AdamUpdate: g = grad + wd param; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²;
///               param -= stepSize m / (sqrt(v) / bc2sqrt + eps), stepSize = lr / (1 - b1^t) and
///               bc2sqrt = sqrt(1 - b2^t) from the host.                              param, grad, buf, m, v: [n]
/// Launch: 1-D, a grid-stride loop over n. Memory-bound: each element read and written once per step.
/// </summary>
public static class Optimizers
{
    public static void SgdUpdate(ArrayView<float> param, ArrayView<float> grad, ArrayView<float> buf, long n,
        float lr, float momentum, float weightDecay, int firstStep)
    {
        for (long i = Grid.GlobalLinearIndex; i < n; i += (long)Grid.DimX * Group.DimX)
        {
            float p = param[i];
            float d = grad[i] + weightDecay * p;
            if (momentum != 0f)
            {
                d = firstStep != 0 ? d : momentum * buf[i] + d;
                buf[i] = d;
            }
            param[i] = p - lr * d;
        }
    }

    public static void AdamUpdate(ArrayView<float> param, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, long n,
        float beta1, float beta2, float epsilon, float weightDecay, float stepSize, float bc2sqrt)
    {
        for (long i = Grid.GlobalLinearIndex; i < n; i += (long)Grid.DimX * Group.DimX)
        {
            float p = param[i];
            float g = grad[i] + weightDecay * p;
            float mi = beta1 * m[i] + (1f - beta1) * g;
            float vi = beta2 * v[i] + (1f - beta2) * g * g;
            m[i] = mi;
            v[i] = vi;
            param[i] = p - stepSize * (mi / (XMath.Sqrt(vi) / bc2sqrt + epsilon));
        }
    }
}
