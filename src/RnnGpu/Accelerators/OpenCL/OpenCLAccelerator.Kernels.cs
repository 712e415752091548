using System.Runtime.InteropServices;

namespace RnnGpu.Accelerators.OpenCL;

/// <summary>The kernel launches: arguments in the order of the kernel's signature in kernels/*.cl.</summary>
public sealed partial class OpenCLAccelerator
{
    private const int ActNone = 0, ActTanh = 1, ActRelu = 2;
    private const int ColumnSumCols = 16;   // CS_COLS in reduce.cl
    private const int NormMaxGroups = 1024;
    private DeviceBuffer? _normPartials;

    protected override void GemmCore(in GemmSpec spec, Slice a, Slice b, Slice c) => LaunchGemm(spec, ActNone, a, b, c);

    protected override void AddBiasCore(int rows, int cols, Slice bias, Slice y)
    {
        long n = (long)rows * cols;
        if (n == 0) return;
        var call = new KernelCall(_kernels.AddBias);
        call.Long(n);
        call.Int(cols);
        call.Mem(bias);
        call.Mem(y);
        call.Run(_queue, Groups(n), _group);
    }

    protected override void ColumnSumCore(int rows, int cols, Slice x, Slice sum, float beta)
    {
        if (cols == 0) return;
        var call = new KernelCall(_kernels.ColumnSum);
        call.Int(rows);
        call.Int(cols);
        call.Float(beta);
        call.Mem(x);
        call.Mem(sum);
        int lanes = _group / ColumnSumCols;
        call.Run(_queue, Ceiling(cols, ColumnSumCols) * ColumnSumCols, lanes, 1, ColumnSumCols, lanes, 1);
    }

    protected override void RnnStepForwardCore(Activation act, int batch, int hidden, Slice pre, Slice hPrev, Slice wHh, Slice h)
    {
        // h = act(pre + hPrev W_hh^T): gemm with beta = 1 over C = h, after pre is copied there unless it is there already.
        long bh = (long)batch * hidden;
        if (!(ReferenceEquals(pre.Buffer, h.Buffer) && pre.Offset == h.Offset)) CopyFloats(pre, h, bh);
        var spec = GemmSpec.Dense(false, true, batch, hidden, hidden, 1f, 1f);
        LaunchGemm(spec, act == Activation.Tanh ? ActTanh : ActRelu, hPrev, wHh, h);
    }

    protected override void RnnStepBackwardCore(Activation act, int batch, int hidden, Slice h, Slice wHh, Slice dhNext, Slice dPre, Slice dhPrev)
    {
        long bh = (long)batch * hidden;
        if (bh == 0) return;
        var call = new KernelCall(_kernels.RnnStepBackwardAct);
        call.Int(act == Activation.Tanh ? ActTanh : ActRelu);
        call.Long(bh);
        call.Mem(h);
        call.Mem(dhNext);
        call.Mem(dPre);
        call.Run(_queue, Groups(bh), _group);
        // dhPrev = dPre W_hh: [batch, hidden] x [hidden, hidden]
        LaunchGemm(GemmSpec.Dense(false, false, batch, hidden, hidden), ActNone, dPre, wHh, dhPrev);
    }

    protected override void SoftmaxCrossEntropyCore(int rows, int classes, Slice logits, Slice targets, Slice dLogits, Slice loss, float gradScale)
    {
        if (rows == 0 || classes == 0) return;
        var call = new KernelCall(_kernels.SoftmaxCrossEntropy);
        call.Int(rows);
        call.Int(classes);
        call.Float(gradScale);
        call.Mem(logits);
        call.Mem(targets);
        call.Mem(dLogits);
        call.Mem(loss);
        call.Run(_queue, Groups(rows), _group);
    }

    protected override void MseLossCore(int n, Slice pred, Slice target, Slice dPred, Slice loss, float gradScale) =>
        PointwiseLoss(_kernels.MseLoss, n, pred, target, dPred, loss, gradScale);

    protected override void BceWithLogitsLossCore(int n, Slice logits, Slice target, Slice dLogits, Slice loss, float gradScale) =>
        PointwiseLoss(_kernels.BceWithLogitsLoss, n, logits, target, dLogits, loss, gradScale);

    protected override void MultiplyCore(Slice a, Slice b, Slice y)
    {
        if (y.Length == 0) return;
        var call = new KernelCall(_kernels.Multiply);
        call.Long(y.Length);
        call.Mem(a);
        call.Mem(b);
        call.Mem(y);
        call.Run(_queue, Groups(y.Length), _group);
    }

    protected override void ScaleCore(Slice x, float alpha)
    {
        if (x.Length == 0) return;
        var call = new KernelCall(_kernels.Scale);
        call.Long(x.Length);
        call.Float(alpha);
        call.Mem(x);
        call.Run(_queue, Groups(x.Length), _group);
    }

    protected override double SquaredNormCore(Slice x)
    {
        if (x.Length == 0) return 0;
        // Stage 1 on the device: one partial sum per group (double where the device has doubles);
        // stage 2 here, in double. The group count depends only on the length, so the result is the
        // same run after run.
        _normPartials ??= AllocateCore(2 * NormMaxGroups);
        int groups = (int)Math.Min(Ceiling(x.Length, _group), NormMaxGroups);
        var call = new KernelCall(_kernels.SquaredNormPartial);
        call.Long(x.Length);
        call.Mem(x);
        call.Mem(_normPartials.All);
        call.Run(_queue, groups, _group);
        double sum = 0;
        if (_device.HasFp64)
        {
            Span<double> partials = stackalloc double[groups];
            CopyOutCore(_normPartials.Slice(0, 2 * groups), MemoryMarshal.Cast<double, float>(partials));
            foreach (double p in partials) sum += p;
        }
        else
        {
            Span<float> partials = stackalloc float[groups];
            CopyOutCore(_normPartials.Slice(0, groups), partials);
            foreach (float p in partials) sum += p;
        }
        return sum;
    }

    protected override void SgdUpdateCore(Slice param, Slice grad, Slice momentum, in SgdStep step)
    {
        if (param.Length == 0) return;
        var call = new KernelCall(_kernels.SgdUpdate);
        call.Long(param.Length);
        call.Float(step.LearningRate);
        call.Float(step.Momentum);
        call.Float(step.WeightDecay);
        call.Int(step.FirstStep ? 1 : 0);
        call.Mem(param);
        call.Mem(grad);
        call.Mem(momentum);
        call.Run(_queue, Groups(param.Length), _group);
    }

    protected override void AdamUpdateCore(Slice param, Slice grad, Slice m, Slice v, in AdamStep step)
    {
        if (param.Length == 0) return;
        var call = new KernelCall(_kernels.AdamUpdate);
        call.Long(param.Length);
        call.Float(step.Beta1);
        call.Float(step.Beta2);
        call.Float(step.Epsilon);
        call.Float(step.WeightDecay);
        call.Float(step.StepSize);
        call.Float(step.BiasCorrection2Sqrt);
        call.Mem(param);
        call.Mem(grad);
        call.Mem(m);
        call.Mem(v);
        call.Run(_queue, Groups(param.Length), _group);
    }

    private void LaunchGemm(in GemmSpec s, int act, Slice a, Slice b, Slice c)
    {
        var kernel = _kernels.Gemm;
        var t = _tiling;
        var call = new KernelCall(kernel);
        call.Int(s.TransA ? 1 : 0);
        call.Int(s.TransB ? 1 : 0);
        call.Int(s.M);
        call.Int(s.N);
        call.Int(s.K);
        call.Float(s.Alpha);
        call.Float(s.Beta);
        call.Int(act);
        call.Mem(a);
        call.Int(s.Lda);
        call.Long(s.StrideA);
        call.Mem(b);
        call.Int(s.Ldb);
        call.Long(s.StrideB);
        call.Mem(c);
        call.Int(s.Ldc);
        call.Long(s.StrideC);
        call.Run(_queue, Ceiling(s.N, t.Tsn) * t.LocalN, Ceiling(s.M, t.Tsm) * t.LocalM, s.BatchCount, t.LocalN, t.LocalM, 1);
    }

    private void PointwiseLoss(Native.OpenCLKernelHandle kernel, int n, Slice x, Slice target, Slice grad, Slice loss, float gradScale)
    {
        if (n == 0) return;
        var call = new KernelCall(kernel);
        call.Long(n);
        call.Float(gradScale);
        call.Mem(x);
        call.Mem(target);
        call.Mem(grad);
        call.Mem(loss);
        call.Run(_queue, Groups(n), _group);
    }

    /// <summary>Groups for a grid-stride launch over n items: one item per work item up to the device's fill.</summary>
    private long Groups(long n) => Math.Clamp(Ceiling(n, _group), 1, _maxGroups);

    private static long Ceiling(long n, long d) => (n + d - 1) / d;
}
