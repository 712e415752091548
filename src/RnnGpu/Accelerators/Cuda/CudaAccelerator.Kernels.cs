using System.Runtime.InteropServices;

namespace RnnGpu.Accelerators.Cuda;

/// <summary>
/// The kernel launches: arguments in the order of the kernel's signature in kernels/*.cl, and the
/// OpenCL back end's geometry (OpenCLAccelerator.Kernels.cs) with grid = global / local, block = local.
/// </summary>
public sealed partial class CudaAccelerator
{
    private const int ActNone = 0, ActTanh = 1, ActRelu = 2;
    private const int ColumnSumCols = 16;   // CS_COLS in reduce.cl
    private const int NormMaxGroups = 1024;
    /// <summary>gridDim.y and gridDim.z are at most 65535: larger GEMMs are split into several launches.</summary>
    private const int MaxGridYZ = 65535;
    private DeviceBuffer? _normPartials;

    protected override void GemmCore(in GemmSpec spec, Slice a, Slice b, Slice c) => LaunchGemm(spec, ActNone, a, b, c);

    protected override void AddBiasCore(int rows, int cols, Slice bias, Slice y)
    {
        long n = (long)rows * cols;
        if (n == 0) return;
        var call = Begin(_kernels.AddBias);
        call.Long(n);
        call.Int(cols);
        call.Mem(bias);
        call.Mem(y);
        call.Run(Stream, Groups(n), Group);
    }

    protected override void ColumnSumCore(int rows, int cols, Slice x, Slice sum, float beta)
    {
        if (cols == 0) return;
        var call = Begin(_kernels.ColumnSum);
        call.Int(rows);
        call.Int(cols);
        call.Float(beta);
        call.Mem(x);
        call.Mem(sum);
        call.Run(Stream, Ceiling(cols, ColumnSumCols), 1, 1, ColumnSumCols, Group / ColumnSumCols, 1);
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
        var call = Begin(_kernels.RnnStepBackwardAct);
        call.Int(act == Activation.Tanh ? ActTanh : ActRelu);
        call.Long(bh);
        call.Mem(h);
        call.Mem(dhNext);
        call.Mem(dPre);
        call.Run(Stream, Groups(bh), Group);
        // dhPrev = dPre W_hh: [batch, hidden] x [hidden, hidden]
        LaunchGemm(GemmSpec.Dense(false, false, batch, hidden, hidden), ActNone, dPre, wHh, dhPrev);
    }

    protected override void SoftmaxCrossEntropyCore(int rows, int classes, Slice logits, Slice targets, Slice dLogits, Slice loss, float gradScale)
    {
        if (rows == 0 || classes == 0) return;
        var call = Begin(_kernels.SoftmaxCrossEntropy);
        call.Int(rows);
        call.Int(classes);
        call.Float(gradScale);
        call.Mem(logits);
        call.Mem(targets);
        call.Mem(dLogits);
        call.Mem(loss);
        call.Run(Stream, Groups(rows), Group);
    }

    protected override void MseLossCore(int n, Slice pred, Slice target, Slice dPred, Slice loss, float gradScale) =>
        PointwiseLoss(_kernels.MseLoss, n, pred, target, dPred, loss, gradScale);

    protected override void BceWithLogitsLossCore(int n, Slice logits, Slice target, Slice dLogits, Slice loss, float gradScale) =>
        PointwiseLoss(_kernels.BceWithLogitsLoss, n, logits, target, dLogits, loss, gradScale);

    protected override void MultiplyCore(Slice a, Slice b, Slice y)
    {
        if (y.Length == 0) return;
        var call = Begin(_kernels.Multiply);
        call.Long(y.Length);
        call.Mem(a);
        call.Mem(b);
        call.Mem(y);
        call.Run(Stream, Groups(y.Length), Group);
    }

    protected override void ScaleCore(Slice x, float alpha)
    {
        if (x.Length == 0) return;
        var call = Begin(_kernels.Scale);
        call.Long(x.Length);
        call.Float(alpha);
        call.Mem(x);
        call.Run(Stream, Groups(x.Length), Group);
    }

    protected override double SquaredNormCore(Slice x)
    {
        if (x.Length == 0) return 0;
        // Stage 1 on the device: one double partial sum per block (prelude_cuda.h defines HAVE_FP64);
        // stage 2 here, in double. The block count depends only on the length: the same result every run.
        _normPartials ??= AllocateCore(2 * NormMaxGroups);
        int groups = (int)Math.Min(Ceiling(x.Length, Group), NormMaxGroups);
        var call = Begin(_kernels.SquaredNormPartial);
        call.Long(x.Length);
        call.Mem(x);
        call.Mem(_normPartials.All);
        call.Run(Stream, groups, Group);
        Span<double> partials = stackalloc double[groups];
        CopyOutCore(_normPartials.Slice(0, 2 * groups), MemoryMarshal.Cast<double, float>(partials));
        double sum = 0;
        foreach (double p in partials) sum += p;
        return sum;
    }

    protected override void SgdUpdateCore(Slice param, Slice grad, Slice momentum, in SgdStep step)
    {
        if (param.Length == 0) return;
        var call = Begin(_kernels.SgdUpdate);
        call.Long(param.Length);
        call.Float(step.LearningRate);
        call.Float(step.Momentum);
        call.Float(step.WeightDecay);
        call.Int(step.FirstStep ? 1 : 0);
        call.Mem(param);
        call.Mem(grad);
        call.Mem(momentum);
        call.Run(Stream, Groups(param.Length), Group);
    }

    protected override void AdamUpdateCore(Slice param, Slice grad, Slice m, Slice v, in AdamStep step)
    {
        if (param.Length == 0) return;
        var call = Begin(_kernels.AdamUpdate);
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
        call.Run(Stream, Groups(param.Length), Group);
    }

    /// <summary>
    /// gemm.cl over C's row tiles (grid x) by column tiles (grid y) by batches (grid z). Beyond 65535 row
    /// tiles or batches, the product is cut into launches that each start further down A and C (rows)
    /// or further along every operand (batches); each launch is the same kernel on a sub-problem.
    /// </summary>
    private void LaunchGemm(in GemmSpec s, int act, Slice a, Slice b, Slice c)
    {
        var t = Tiling;
        long rowsPerLaunch = (long)MaxGridYZ * t.Tsm;
        for (long m0 = 0; m0 < s.M; m0 += rowsPerLaunch)
        {
            int m = (int)Math.Min(s.M - m0, rowsPerLaunch);
            for (int z0 = 0; z0 < s.BatchCount; z0 += MaxGridYZ)
            {
                int batches = Math.Min(s.BatchCount - z0, MaxGridYZ);
                var call = Begin(_kernels.Gemm);
                call.Int(s.TransA ? 1 : 0);
                call.Int(s.TransB ? 1 : 0);
                call.Int(m);
                call.Int(s.N);
                call.Int(s.K);
                call.Float(s.Alpha);
                call.Float(s.Beta);
                call.Int(act);
                call.Mem(a, a.Offset + z0 * s.StrideA + (s.TransA ? m0 : m0 * s.Lda));
                call.Int(s.Lda);
                call.Long(s.StrideA);
                call.Mem(b, b.Offset + z0 * s.StrideB);
                call.Int(s.Ldb);
                call.Long(s.StrideB);
                call.Mem(c, c.Offset + z0 * s.StrideC + m0 * s.Ldc);
                call.Int(s.Ldc);
                call.Long(s.StrideC);
                call.Run(Stream, Ceiling(s.N, t.Tsn), Ceiling(m, t.Tsm), batches, t.LocalN, t.LocalM, 1);
            }
        }
    }

    private void PointwiseLoss(nint kernel, int n, Slice x, Slice target, Slice grad, Slice loss, float gradScale)
    {
        if (n == 0) return;
        var call = Begin(kernel);
        call.Long(n);
        call.Float(gradScale);
        call.Mem(x);
        call.Mem(target);
        call.Mem(grad);
        call.Mem(loss);
        call.Run(Stream, Groups(n), Group);
    }

    /// <summary>A launch of <paramref name="function"/>, with the context current on this thread.</summary>
    private CudaLaunch Begin(nint function)
    {
        _context.MakeCurrent();
        return new CudaLaunch(function);
    }

    /// <summary>Blocks for a grid-stride launch over n items: one item per thread up to the device's fill.</summary>
    private long Groups(long n) => Math.Clamp(Ceiling(n, Group), 1, _maxGroups);

    private static long Ceiling(long n, long d) => (n + d - 1) / d;
}
