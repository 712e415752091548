using ILGPU;
using ILGPU.Runtime;
using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu.Reference;
using RnnGpu.Kernels;
using RnnGpu.Tests.Support;
using static RnnGpu.Tests.Ilgpu.IlgpuCpuDevices;

namespace RnnGpu.Tests.Ilgpu;

/// <summary>The reductions and the optimizer updates on ILGPU's CPU accelerator against the float64 reference, in both device kinds.</summary>
public class IlgpuReductionOptimizerTests(IlgpuCpuDevices devices) : IClassFixture<IlgpuCpuDevices>
{
    [Theory]
    [MemberData(nameof(Kinds), MemberType = typeof(IlgpuCpuDevices))]
    public void Column_sum_matches_the_reference_and_is_the_same_every_run(string kind)
    {
        var accelerator = devices.Get(kind);
        var rng = new Random(41);
        int rows = 37, cols = 21;
        var x = Numerics.Random(rng, rows * cols);
        var prior = Numerics.Random(rng, cols);
        var kernel = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, float>(Reductions.ColumnSum);
        var (gx, gy) = GemmGroup(kind);
        foreach (float beta in new[] { 0f, 0.5f })
        {
            var expected = ReferenceSums(rows, cols, x, prior, beta);
            float[]? first = null;
            for (int run = 0; run < 2; run++)
            {
                using var xb = Upload(accelerator, x);
                // beta 0 must ignore what the sums held, NaN included.
                using var sb = Upload(accelerator, beta == 0f ? Enumerable.Repeat(float.NaN, cols).ToArray() : prior);
                kernel(Reductions.ColumnSumConfig(cols, gx, gy), xb.View, sb.View, rows, cols, beta);
                var actual = Download(sb, cols);
                Numerics.AssertClose(expected, actual, 1e-5, 1e-6, $"column sum beta {beta}");
                if (first is null) first = actual;
                else Assert.Equal(first, actual);
            }
        }
    }

    private static float[] ReferenceSums(int rows, int cols, float[] x, float[] prior, float beta)
    {
        var sums = beta == 0f ? new float[cols] : (float[])prior.Clone();
        ReferenceKernels.ColumnSum(rows, cols, x, sums, beta);
        return sums;
    }

    [Theory]
    [MemberData(nameof(Kinds), MemberType = typeof(IlgpuCpuDevices))]
    public void Squared_norm_partials_add_up_to_the_reference_in_double_and_float(string kind)
    {
        var accelerator = devices.Get(kind);
        var rng = new Random(43);
        int n = 1001, groups = 3, group = accelerator.WarpSize;   // 4 or 32: a power of two either way
        var x = Numerics.Random(rng, n);
        double expected = ReferenceKernels.SquaredNorm(x);
        using var xb = Upload(accelerator, x);
        using var pd = accelerator.Allocate1D<double>(groups);
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<double>, long>(Reductions.SquaredNormPartial)(
            Reductions.SquaredNormConfig<double>(groups, group), xb.View, pd.View, n);
        Assert.Equal(expected, pd.GetAsArray1D().Sum(), 1e-9 * expected);
        using var pf = accelerator.Allocate1D<float>(groups);
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long>(Reductions.SquaredNormPartialFloat)(
            Reductions.SquaredNormConfig<float>(groups, group), xb.View, pf.View, n);
        Assert.Equal(expected, pf.GetAsArray1D().Sum(v => (double)v), 1e-5 * expected);

        // One huge value: its square overflows float, not double.
        var big = (float[])x.Clone();
        big[500] = 1e20f;
        using var bb = Upload(accelerator, big);
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<double>, long>(Reductions.SquaredNormPartial)(
            Reductions.SquaredNormConfig<double>(groups, group), bb.View, pd.View, n);
        double bigExpected = ReferenceKernels.SquaredNorm(big);
        Assert.Equal(bigExpected, pd.GetAsArray1D().Sum(), 1e-9 * bigExpected);
    }

    [Theory]
    [MemberData(nameof(Kinds), MemberType = typeof(IlgpuCpuDevices))]
    public void Sgd_and_adam_updates_match_the_reference(string kind)
    {
        var accelerator = devices.Get(kind);
        var rng = new Random(47);
        int n = 203;
        var config = Stride1D(accelerator);
        var grad = Numerics.Random(rng, n);
        foreach (var step in new[] { new SgdStep(0.1f, 0.9f, 0.01f, true), new SgdStep(0.1f, 0.9f, 0.01f, false), new SgdStep(0.05f, 0f, 0f, false) })
        {
            var param = Numerics.Random(rng, n);
            var buf = Numerics.Random(rng, n);
            var (p, b) = ((float[])param.Clone(), (float[])buf.Clone());
            ReferenceKernels.SgdUpdate(p, grad, b, step);
            using var pb = Upload(accelerator, param);
            using var gb = Upload(accelerator, grad);
            using var mb = Upload(accelerator, buf);
            accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float, float, float, int>(Optimizers.SgdUpdate)(
                config, pb.View, gb.View, mb.View, n, step.LearningRate, step.Momentum, step.WeightDecay, step.FirstStep ? 1 : 0);
            Numerics.AssertClose(p, Download(pb, n), 1e-6, 1e-7, $"sgd {step}: param");
            Numerics.AssertClose(b, Download(mb, n), 1e-6, 1e-7, $"sgd {step}: momentum");
        }

        var adam = new AdamStep(0.9f, 0.999f, 1e-8f, 0.01f, (float)(1e-3 / (1 - Math.Pow(0.9, 3))), (float)Math.Sqrt(1 - Math.Pow(0.999, 3)));
        var param0 = Numerics.Random(rng, n);
        var m0 = Numerics.Random(rng, n, 0.1f);
        var v0 = Numerics.Random(rng, n, 0.1f).Select(MathF.Abs).ToArray();
        var (pe, me, ve) = ((float[])param0.Clone(), (float[])m0.Clone(), (float[])v0.Clone());
        ReferenceKernels.AdamUpdate(pe, grad, me, ve, adam);
        using var pa = Upload(accelerator, param0);
        using var ga = Upload(accelerator, grad);
        using var ma = Upload(accelerator, m0);
        using var va = Upload(accelerator, v0);
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float, float, float, float, float, float>(Optimizers.AdamUpdate)(
            config, pa.View, ga.View, ma.View, va.View, n, adam.Beta1, adam.Beta2, adam.Epsilon, adam.WeightDecay, adam.StepSize, adam.BiasCorrection2Sqrt);
        Numerics.AssertClose(pe, Download(pa, n), 1e-6, 1e-7, "adam param");
        Numerics.AssertClose(me, Download(ma, n), 1e-6, 1e-7, "adam m");
        Numerics.AssertClose(ve, Download(va, n), 1e-6, 1e-8, "adam v");
    }
}
