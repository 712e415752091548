namespace RnnGpu.Accelerators.Cpu.Reference;

/// <summary>
/// Plain scalar versions of every kernel of the contract, accumulating in double: the oracle that
/// every fast kernel on every back end is tested against. Written for clarity, never for speed.
/// </summary>
public static class ReferenceKernels
{
    /// <summary>C = alpha op(A) op(B) + beta C (beta = 0 ignores what C held, as BLAS does).</summary>
    public static void Gemm(in GemmSpec s, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
    {
        for (int batch = 0; batch < s.BatchCount; batch++)
        {
            long oa = batch * s.StrideA, ob = batch * s.StrideB, oc = batch * s.StrideC;
            for (int i = 0; i < s.M; i++)
            for (int j = 0; j < s.N; j++)
            {
                double acc = 0;
                for (int p = 0; p < s.K; p++)
                {
                    float av = s.TransA ? a[(int)(oa + (long)p * s.Lda + i)] : a[(int)(oa + (long)i * s.Lda + p)];
                    float bv = s.TransB ? b[(int)(ob + (long)j * s.Ldb + p)] : b[(int)(ob + (long)p * s.Ldb + j)];
                    acc += (double)av * bv;
                }
                int ci = (int)(oc + (long)i * s.Ldc + j);
                double prior = s.Beta == 0f ? 0 : (double)s.Beta * c[ci];
                c[ci] = (float)(s.Alpha * acc + prior);
            }
        }
    }

    public static void AddBias(int rows, int cols, ReadOnlySpan<float> bias, Span<float> y)
    {
        for (int r = 0; r < rows; r++)
        for (int col = 0; col < cols; col++)
            y[r * cols + col] += bias[col];
    }

    public static void ColumnSum(int rows, int cols, ReadOnlySpan<float> x, Span<float> sum, float beta)
    {
        for (int col = 0; col < cols; col++)
        {
            double acc = beta == 0f ? 0 : (double)beta * sum[col];
            for (int r = 0; r < rows; r++) acc += x[r * cols + col];
            sum[col] = (float)acc;
        }
    }

    public static double Activate(Activation act, double x) => act == Activation.Tanh ? Math.Tanh(x) : Math.Max(x, 0);

    /// <summary>act'(x) written in terms of the output y = act(x).</summary>
    public static double ActivationDerivative(Activation act, double y) => act == Activation.Tanh ? 1 - y * y : (y > 0 ? 1 : 0);

    public static void RnnStepForward(Activation act, int batch, int hidden,
        ReadOnlySpan<float> pre, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> wHh, Span<float> h)
    {
        for (int bi = 0; bi < batch; bi++)
        for (int j = 0; j < hidden; j++)
        {
            double acc = pre[bi * hidden + j];
            for (int p = 0; p < hidden; p++) acc += (double)hPrev[bi * hidden + p] * wHh[j * hidden + p];
            h[bi * hidden + j] = (float)Activate(act, acc);
        }
    }

    public static void RnnStepBackward(Activation act, int batch, int hidden,
        ReadOnlySpan<float> h, ReadOnlySpan<float> wHh, ReadOnlySpan<float> dhNext, Span<float> dPre, Span<float> dhPrev)
    {
        for (int i = 0; i < batch * hidden; i++)
            dPre[i] = (float)(((double)dPre[i] + dhNext[i]) * ActivationDerivative(act, h[i]));
        for (int bi = 0; bi < batch; bi++)
        for (int p = 0; p < hidden; p++)
        {
            double acc = 0;
            for (int j = 0; j < hidden; j++) acc += (double)dPre[bi * hidden + j] * wHh[j * hidden + p];
            dhPrev[bi * hidden + p] = (float)acc;
        }
    }

    public static void SoftmaxCrossEntropy(int rows, int classes, ReadOnlySpan<float> logits, ReadOnlySpan<float> targets,
        Span<float> dLogits, Span<float> loss, float gradScale)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * classes, classes);
            double max = double.NegativeInfinity;
            foreach (float v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (float v in row) sum += Math.Exp(v - max);
            int target = (int)targets[r];
            loss[r] = (float)(Math.Log(sum) + max - row[target]);
            for (int k = 0; k < classes; k++)
            {
                double p = Math.Exp(row[k] - max) / sum;
                dLogits[r * classes + k] = (float)(gradScale * (p - (k == target ? 1 : 0)));
            }
        }
    }

    public static void MseLoss(int n, ReadOnlySpan<float> pred, ReadOnlySpan<float> target, Span<float> dPred, Span<float> loss, float gradScale)
    {
        for (int i = 0; i < n; i++)
        {
            double d = (double)pred[i] - target[i];
            loss[i] = (float)(d * d);
            dPred[i] = (float)(gradScale * 2 * d);
        }
    }

    public static void BceWithLogitsLoss(int n, ReadOnlySpan<float> logits, ReadOnlySpan<float> target, Span<float> dLogits, Span<float> loss, float gradScale)
    {
        for (int i = 0; i < n; i++)
        {
            double x = logits[i], t = target[i];
            loss[i] = (float)(Math.Max(x, 0) - x * t + Math.Log(1 + Math.Exp(-Math.Abs(x))));
            dLogits[i] = (float)(gradScale * (1 / (1 + Math.Exp(-x)) - t));
        }
    }

    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        for (int i = 0; i < y.Length; i++) y[i] = a[i] * b[i];
    }

    public static double SquaredNorm(ReadOnlySpan<float> x)
    {
        double acc = 0;
        foreach (float v in x) acc += (double)v * v;
        return acc;
    }

    public static void SgdUpdate(Span<float> param, ReadOnlySpan<float> grad, Span<float> momentum, in SgdStep s)
    {
        for (int i = 0; i < param.Length; i++)
        {
            double d = grad[i] + (double)s.WeightDecay * param[i];
            if (s.Momentum != 0f)
            {
                d = s.FirstStep ? d : s.Momentum * (double)momentum[i] + d;
                momentum[i] = (float)d;
            }
            param[i] = (float)(param[i] - (double)s.LearningRate * d);
        }
    }

    public static void AdamUpdate(Span<float> param, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, in AdamStep s)
    {
        for (int i = 0; i < param.Length; i++)
        {
            double g = grad[i] + (double)s.WeightDecay * param[i];
            double mi = s.Beta1 * (double)m[i] + (1 - (double)s.Beta1) * g;
            double vi = s.Beta2 * (double)v[i] + (1 - (double)s.Beta2) * g * g;
            m[i] = (float)mi;
            v[i] = (float)vi;
            double denom = Math.Sqrt(vi) / s.BiasCorrection2Sqrt + s.Epsilon;
            param[i] = (float)(param[i] - s.StepSize * mi / denom);
        }
    }
}
