using ILGPU;
using ILGPU.Runtime;
using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu.Reference;
using RnnGpu.Kernels;
using RnnGpu.Tests.Support;
using static RnnGpu.Tests.Ilgpu.IlgpuCpuDevices;

namespace RnnGpu.Tests.Ilgpu;

/// <summary>
/// The ILGPU kernels run on ILGPU's CPU accelerator (the very code a GPU runs), each against the scalar float64
/// reference on random inputs of awkward sizes, in both device kinds (warp 4 and warp 32).
/// </summary>
public class IlgpuKernelTests(IlgpuCpuDevices devices) : IClassFixture<IlgpuCpuDevices>
{
    public static TheoryData<string, bool, bool> GemmCases()
    {
        var cases = new TheoryData<string, bool, bool>();
        foreach (var kind in new[] { "default", "nvidia" })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    cases.Add(kind, ta, tb);
        return cases;
    }

    [Theory]
    [MemberData(nameof(GemmCases))]
    public void Gemm_matches_the_reference_with_transposes_padding_alpha_beta_and_batches(string kind, bool transA, bool transB)
    {
        var accelerator = devices.Get(kind);
        var rng = new Random(17 + (transA ? 1 : 0) + (transB ? 2 : 0));
        // Sizes that are multiples of no tile; lda/ldb/ldc padded past the row; two batches with gaps between them.
        int m = 19, n = 23, k = 37, batches = 2;
        int lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 5;
        long strideA = (long)(transA ? k : m) * lda + 7, strideB = (long)(transB ? n : k) * ldb + 1, strideC = (long)m * ldc + 4;
        var spec = new GemmSpec(transA, transB, m, n, k, 0.75f, -0.5f, lda, ldb, ldc, batches, strideA, strideB, strideC);
        var a = Numerics.Random(rng, strideA * batches);
        var b = Numerics.Random(rng, strideB * batches);
        var c = Numerics.Random(rng, strideC * batches);
        var expected = (float[])c.Clone();
        ReferenceKernels.Gemm(spec, a, b, expected);

        var actual = RunGemm(kind, accelerator, spec, Act.None, a, b, c);
        Numerics.AssertClose(expected, actual, 1e-5, 1e-5, $"gemm {kind} transA={transA} transB={transB}");
    }

    /// <summary>The GEMM in the group shape the back end gives it on a GPU, 16 x 16 (tiles of 64 x 64), on the warp-32 device.</summary>
    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Gemm_in_the_gpu_group_shape_matches_the_reference(bool transA, bool transB)
    {
        var accelerator = devices.Get("nvidia");
        var rng = new Random(29);
        int m = 70, n = 75, k = 37;   // 2 x 2 tiles, both partial; 3 slabs of K, the last partial
        var spec = new GemmSpec(transA, transB, m, n, k, 1.25f, 0.5f, (transA ? m : k) + 1, (transB ? k : n) + 3, n + 2);
        var a = Numerics.Random(rng, spec.ExtentA);
        var b = Numerics.Random(rng, spec.ExtentB);
        var c = Numerics.Random(rng, spec.ExtentC);
        var expected = (float[])c.Clone();
        ReferenceKernels.Gemm(spec, a, b, expected);
        var actual = RunGemm("nvidia", accelerator, spec, Act.None, a, b, c, group: (16, 16));
        Numerics.AssertClose(expected, actual, 1e-5, 1e-5, $"gemm 16x16 groups transA={transA} transB={transB}");
    }

    [Theory]
    [MemberData(nameof(Kinds), MemberType = typeof(IlgpuCpuDevices))]
    public void Gemm_with_beta_zero_ignores_what_C_held_and_fuses_the_activation(string kind)
    {
        var accelerator = devices.Get(kind);
        var rng = new Random(5);
        int m = 9, n = 21, k = 18;
        var spec = GemmSpec.Dense(false, true, m, n, k, 1f, 0f);
        var a = Numerics.Random(rng, m * k, 2f);
        var b = Numerics.Random(rng, n * k, 2f);
        var nan = Enumerable.Repeat(float.NaN, m * n).ToArray();
        var product = new float[m * n];
        ReferenceKernels.Gemm(spec, a, b, product);
        foreach (var (act, activation) in new[] { (Act.Tanh, Activation.Tanh), (Act.Relu, Activation.Relu) })
        {
            var expected = product.Select(v => (float)ReferenceKernels.Activate(activation, v)).ToArray();
            var actual = RunGemm(kind, accelerator, spec, act, a, b, nan);
            Numerics.AssertClose(expected, actual, 1e-5, 1e-6, $"gemm {kind} act {activation}");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds), MemberType = typeof(IlgpuCpuDevices))]
    public void Tanh_on_the_device_is_within_3_ulp_of_the_exact_value(string kind)
    {
        var accelerator = devices.Get(kind);
        var rng = new Random(3);
        // Tiny (where 1 - 2 / (e^2x + 1) would cancel), moderate, past the clamp, and the special values.
        var x = Numerics.Random(rng, 2000, 12f).Concat(Numerics.Random(rng, 500, 1e-3f))
            .Concat([0f, -0f, 1e-30f, -1e-30f, 9.99f, 10f, 50f, -50f, float.PositiveInfinity, float.NegativeInfinity, float.NaN]).ToArray();
        var kernel = accelerator.LoadStreamKernel<ArrayView<float>, long>(TanhInPlace);
        using var buffer = Upload(accelerator, x);
        kernel(Stride1D(accelerator), buffer.View, x.Length);
        var y = Download(buffer, x.Length);
        for (int i = 0; i < x.Length; i++)
        {
            float exact = (float)Math.Tanh(x[i]);
            if (float.IsNaN(x[i])) Assert.True(float.IsNaN(y[i]), $"tanh(NaN) is {y[i]}");
            else
            {
                // Same sign, and at most 3 representable floats apart (the bit patterns of same-signed floats are ordered).
                int ulps = Math.Abs(BitConverter.SingleToInt32Bits(y[i]) - BitConverter.SingleToInt32Bits(exact));
                Assert.True(ulps <= 3 && (BitConverter.SingleToInt32Bits(y[i]) < 0) == (BitConverter.SingleToInt32Bits(exact) < 0),
                    $"tanh({x[i]:R}) = {y[i]:R}, exact {exact:R}: {ulps} ulp apart");
            }
        }
    }

    private static void TanhInPlace(ArrayView<float> x, long n)
    {
        for (long i = Grid.GlobalLinearIndex; i < n; i += (long)Grid.DimX * Group.DimX) x[i] = DeviceMath.Tanh(x[i]);
    }

    [Theory]
    [MemberData(nameof(Kinds), MemberType = typeof(IlgpuCpuDevices))]
    public void Elementwise_kernels_match_the_reference(string kind)
    {
        var accelerator = devices.Get(kind);
        var rng = new Random(11);
        int rows = 13, cols = 29, n = rows * cols;
        var config = Stride1D(accelerator);

        var y = Numerics.Random(rng, n);
        var bias = Numerics.Random(rng, cols);
        var expected = (float[])y.Clone();
        ReferenceKernels.AddBias(rows, cols, bias, expected);
        using (var yb = Upload(accelerator, y))
        using (var bb = Upload(accelerator, bias))
        {
            accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long, int>(Elementwise.AddBias)(config, yb.View, bb.View, n, cols);
            Numerics.AssertClose(expected, Download(yb, n), 1e-6, 1e-7, "add bias");
        }

        var x = Numerics.Random(rng, n);
        using (var xb = Upload(accelerator, x))
        {
            accelerator.LoadStreamKernel<ArrayView<float>, long, float>(Elementwise.Scale)(config, xb.View, n, -1.75f);
            Numerics.AssertClose(x.Select(v => v * -1.75f).ToArray(), Download(xb, n), 1e-7, 0, "scale");
        }

        var a = Numerics.Random(rng, n);
        var b = Numerics.Random(rng, n);
        var product = new float[n];
        ReferenceKernels.Multiply(a, b, product);
        using (var ab = Upload(accelerator, a))
        using (var bb = Upload(accelerator, b))
        {
            // In place (y = a), as dropout applies its mask.
            accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, long>(Elementwise.Multiply)(config, ab.View, bb.View, ab.View, n);
            Numerics.AssertClose(product, Download(ab, n), 1e-7, 0, "multiply");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds), MemberType = typeof(IlgpuCpuDevices))]
    public void Step_backward_activation_is_the_reference_step_without_its_product(string kind)
    {
        var accelerator = devices.Get(kind);
        var rng = new Random(23);
        int batch = 5, hidden = 27, n = batch * hidden;
        foreach (var (act, activation) in new[] { (Act.Tanh, Activation.Tanh), (Act.Relu, Activation.Relu) })
        {
            var h = Numerics.Random(rng, n).Select(v => activation == Activation.Tanh ? MathF.Tanh(2 * v) : v).ToArray();
            var dhNext = Numerics.Random(rng, n);
            var dPre = Numerics.Random(rng, n);
            // The reference step with a zero W_hh leaves dPre as exactly this launch's output.
            var expected = (float[])dPre.Clone();
            ReferenceKernels.RnnStepBackward(activation, batch, hidden, h, new float[hidden * hidden], dhNext, expected, new float[n]);
            using var hb = Upload(accelerator, h);
            using var nb = Upload(accelerator, dhNext);
            using var pb = Upload(accelerator, dPre);
            accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int>(Elementwise.StepBackwardAct)(
                Stride1D(accelerator), hb.View, nb.View, pb.View, n, act);
            Numerics.AssertClose(expected, Download(pb, n), 1e-6, 1e-7, $"step backward {activation}");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds), MemberType = typeof(IlgpuCpuDevices))]
    public void Pointwise_losses_match_the_reference(string kind)
    {
        var accelerator = devices.Get(kind);
        var rng = new Random(31);
        int n = 301;
        float gradScale = 1f / n;
        var x = Numerics.Random(rng, n, 6f);
        var t = Numerics.Random(rng, n).Select(v => (v + 1) / 2).ToArray();
        foreach (bool bce in new[] { false, true })
        {
            var dExpected = new float[n];
            var lossExpected = new float[n];
            if (bce) ReferenceKernels.BceWithLogitsLoss(n, x, t, dExpected, lossExpected, gradScale);
            else ReferenceKernels.MseLoss(n, x, t, dExpected, lossExpected, gradScale);
            using var xb = Upload(accelerator, x);
            using var tb = Upload(accelerator, t);
            using var db = accelerator.Allocate1D<float>(n);
            using var lb = accelerator.Allocate1D<float>(n);
            var kernel = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float>(
                bce ? Elementwise.BceWithLogitsLoss : Elementwise.MseLoss);
            kernel(Stride1D(accelerator), xb.View, tb.View, db.View, lb.View, n, gradScale);
            string what = bce ? "bce" : "mse";
            Numerics.AssertClose(lossExpected, Download(lb, n), 1e-5, 1e-6, $"{what} loss");
            Numerics.AssertClose(dExpected, Download(db, n), 1e-5, 1e-7, $"{what} gradient");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds), MemberType = typeof(IlgpuCpuDevices))]
    public void Softmax_cross_entropy_matches_the_reference_and_poisons_a_row_with_a_bad_target(string kind)
    {
        var accelerator = devices.Get(kind);
        var rng = new Random(37);
        int rows = 11, classes = 29;
        float gradScale = 1f / rows;
        var logits = Numerics.Random(rng, rows * classes, 8f);
        var targets = Enumerable.Range(0, rows).Select(_ => (float)rng.Next(classes)).ToArray();
        var dExpected = new float[rows * classes];
        var lossExpected = new float[rows];
        ReferenceKernels.SoftmaxCrossEntropy(rows, classes, logits, targets, dExpected, lossExpected, gradScale);
        var kernel = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(Elementwise.SoftmaxCrossEntropy);
        using var lb = Upload(accelerator, logits);
        using var tb = Upload(accelerator, targets);
        using var db = accelerator.Allocate1D<float>(rows * classes);
        using var sb = accelerator.Allocate1D<float>(rows);
        kernel(Stride1D(accelerator), lb.View, tb.View, db.View, sb.View, rows, classes, gradScale);
        Numerics.AssertClose(lossExpected, Download(sb, rows), 1e-5, 1e-6, "cross-entropy loss");
        Numerics.AssertClose(dExpected, Download(db, rows * classes), 1e-5, 1e-7, "cross-entropy gradient");

        foreach (float bad in new[] { -1f, classes, 2.5f, float.NaN })
        {
            var poisoned = (float[])targets.Clone();
            poisoned[4] = bad;
            using var pb = Upload(accelerator, poisoned);
            kernel(Stride1D(accelerator), lb.View, pb.View, db.View, sb.View, rows, classes, gradScale);
            var loss = Download(sb, rows);
            var grad = Download(db, rows * classes);
            Assert.True(float.IsNaN(loss[4]) && grad.Skip(4 * classes).Take(classes).All(float.IsNaN), $"target {bad}: row 4 is not NaN");
            Assert.Equal(lossExpected[3], loss[3], 1e-5f);
        }
    }

    private static float[] RunGemm(string kind, ILGPU.Runtime.CPU.CPUAccelerator accelerator, in GemmSpec spec, int act, float[] a, float[] b, float[] c,
        (int X, int Y)? group = null)
    {
        var args = new GemmArgs
        {
            TransA = spec.TransA ? 1 : 0, TransB = spec.TransB ? 1 : 0, M = spec.M, N = spec.N, K = spec.K, Act = act,
            Lda = spec.Lda, Ldb = spec.Ldb, Ldc = spec.Ldc, Alpha = spec.Alpha, Beta = spec.Beta,
            StrideA = spec.StrideA, StrideB = spec.StrideB, StrideC = spec.StrideC,
        };
        var kernel = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(RnnGpu.Kernels.Gemm.Kernel);
        using var ab = Upload(accelerator, a);
        using var bb = Upload(accelerator, b);
        using var cb = Upload(accelerator, c);
        var (gx, gy) = group ?? GemmGroup(kind);
        kernel(RnnGpu.Kernels.Gemm.Config(args, gx, gy, spec.BatchCount), ab.View, bb.View, cb.View, args);
        return Download(cb, c.Length);
    }
}
