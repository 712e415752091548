using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu.Reference;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Kernels;

/// <summary>
/// Every kernel of the contract on every back end against the scalar double-accumulating reference,
/// on random inputs of awkward sizes (1, 7, 13, 33, 65: never only powers of two).
/// </summary>
public sealed class KernelTests
{
    public static TheoryData<string> Backends => TestBackends.Names;

    private const double Rtol = 2e-5, Atol = 2e-6;

    /// <summary>Uploads host data into a fresh device buffer placed at an odd offset, to test slice offsets.</summary>
    private static Slice Upload(Accelerator acc, float[] data, List<DeviceBuffer> owned)
    {
        const int pad = 3;
        var buffer = acc.Allocate(data.Length + 2 * pad);
        owned.Add(buffer);
        var slice = buffer.Slice(pad, data.Length);
        acc.CopyIn(data, slice);
        return slice;
    }

    public static IEnumerable<object[]> GemmCases()
    {
        // Small awkward shapes, and large ones that split across threads (both the packed path and,
        // for few rows with B transposed, the dot-product path).
        int[][] shapes = [[1, 1, 1], [7, 13, 5], [13, 33, 17], [33, 7, 65], [65, 70, 33], [4, 16, 1], [2, 130, 47], [100, 3, 9],
            [70, 70, 70], [200, 17, 90], [13, 300, 200], [257, 33, 65], [16, 513, 257]];
        foreach (var backend in TestBackends.Names)
        foreach (var s in shapes)
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
            yield return [backend, s[0], s[1], s[2], ta, tb];
    }

    [Theory]
    [MemberData(nameof(GemmCases))]
    public void Gemm_matches_reference_for_every_transpose(string backend, int m, int n, int k, bool transA, bool transB)
    {
        using var acc = TestBackends.Open(backend);
        var rng = new Random(m * 1000 + n * 10 + k);
        // Leading dimensions larger than the shapes need, alpha and beta not 1 or 0.
        var spec = new GemmSpec(transA, transB, m, n, k, 0.75f, -0.5f,
            (transA ? m : k) + 3, (transB ? k : n) + 2, n + 1);
        var a = Numerics.Random(rng, spec.ExtentA);
        var b = Numerics.Random(rng, spec.ExtentB);
        var c = Numerics.Random(rng, spec.ExtentC);
        var expected = (float[])c.Clone();
        ReferenceKernels.Gemm(spec, a, b, expected);

        var owned = new List<DeviceBuffer>();
        var dc = Upload(acc, c, owned);
        acc.Gemm(spec, Upload(acc, a, owned), Upload(acc, b, owned), dc);
        // A float sum of K products errs by about sqrt(K) roundings (more where a device rounds a*b+c twice, as ILGPU's
        // CPU accelerator does): the absolute tolerance grows with sqrt(K), as the input step's does.
        Numerics.AssertClose(expected, acc.ToArray(dc), Rtol, Atol * Math.Sqrt(k), $"GEMM {m}x{n}x{k} tA={transA} tB={transB}");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Gemm_beta_zero_ignores_nan_in_output_and_batches_are_strided(string backend)
    {
        using var acc = TestBackends.Open(backend);
        var rng = new Random(5);
        int m = 13, n = 33, k = 7, batches = 3;
        var spec = GemmSpec.Dense(false, true, m, n, k, 1.5f, 0f) with
        {
            BatchCount = batches, StrideA = m * k + 5, StrideB = n * k + 1, StrideC = m * n + 2,
        };
        var a = Numerics.Random(rng, spec.ExtentA);
        var b = Numerics.Random(rng, spec.ExtentB);
        var c = new float[spec.ExtentC];
        Array.Fill(c, float.NaN);
        var expected = new float[c.Length];
        ReferenceKernels.Gemm(spec, a, b, expected);
        // Elements between batches are not written by either; compare only those the product covers.
        var owned = new List<DeviceBuffer>();
        var dc = Upload(acc, c, owned);
        acc.Gemm(spec, Upload(acc, a, owned), Upload(acc, b, owned), dc);
        var actual = acc.ToArray(dc);
        for (int bi = 0; bi < batches; bi++)
        {
            int o = bi * (m * n + 2);
            Numerics.AssertClose(expected.AsSpan(o, m * n), actual.AsSpan(o, m * n), Rtol, Atol, $"batch {bi}");
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Gemm_rejects_slices_too_small_for_the_shape(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var a = acc.Allocate(10);
        using var b = acc.Allocate(100);
        using var c = acc.Allocate(100);
        var ex = Assert.Throws<ShapeException>(() => acc.Gemm(GemmSpec.Dense(false, false, 5, 5, 5), a, b, c));
        Assert.Contains("A", ex.Message);
    }

    public static IEnumerable<object[]> InputStepCases()
    {
        // Batches of 1 to 4 take the CPU's one-pass kernel, 5 the product and the step; hidden 256 with input 64 is
        // large enough to split across the team, 13 and 129 leave a partial block of 16 columns, 7 and 33 a tail of K.
        foreach (var backend in TestBackends.Names)
        foreach (var act in new[] { Activation.Tanh, Activation.Relu })
        foreach (var (batch, input, hidden) in new[] { (1, 1, 1), (1, 7, 13), (2, 33, 129), (4, 16, 33), (1, 64, 256), (3, 13, 256), (5, 33, 100) })
            yield return [backend, act, batch, input, hidden];
    }

    /// <summary>h = act(x W_ih^T + b_ih + b_hh + hPrev W_hh^T) in double.</summary>
    private static float[] InputStepReference(Activation act, int batch, int input, int hidden, float[] x, float[] wIh, float[] bIh, float[] bHh,
        float[] hPrev, float[] wHh)
    {
        var h = new float[batch * hidden];
        for (int b = 0; b < batch; b++)
        for (int j = 0; j < hidden; j++)
        {
            double acc = (double)bIh[j] + bHh[j];
            for (int k = 0; k < input; k++) acc += (double)x[b * input + k] * wIh[j * input + k];
            for (int k = 0; k < hidden; k++) acc += (double)hPrev[b * hidden + k] * wHh[j * hidden + k];
            h[b * hidden + j] = (float)ReferenceKernels.Activate(act, acc);
        }
        return h;
    }

    [Theory]
    [MemberData(nameof(InputStepCases))]
    public void RnnInputStepForward_matches_reference(string backend, Activation act, int batch, int input, int hidden)
    {
        using var acc = TestBackends.Open(backend);
        var rng = new Random(batch * 10000 + input * 100 + hidden);
        var x = Numerics.Random(rng, batch * input);
        var wIh = Numerics.Random(rng, hidden * input, 0.5f);
        var bIh = Numerics.Random(rng, hidden);
        var bHh = Numerics.Random(rng, hidden);
        var hPrev = Numerics.Random(rng, batch * hidden);
        var wHh = Numerics.Random(rng, hidden * hidden, 0.5f);
        var expected = InputStepReference(act, batch, input, hidden, x, wIh, bIh, bHh, hPrev, wHh);

        var owned = new List<DeviceBuffer>();
        var h = Upload(acc, new float[batch * hidden], owned);
        acc.RnnInputStepForward(act, batch, hidden, input, Upload(acc, x, owned), Upload(acc, wIh, owned), Upload(acc, bIh, owned),
            Upload(acc, bHh, owned), Upload(acc, hPrev, owned), Upload(acc, wHh, owned), h);
        // Sums of up to 320 terms of size ~0.5 cancel to small values: the tolerance grows with sqrt(K) as the GEMM's does.
        Numerics.AssertClose(expected, acc.ToArray(h), Rtol, Atol * Math.Sqrt(input + hidden), $"h of step {batch}x{input}x{hidden}");
        owned.ForEach(buffer => buffer.Dispose());
    }

    [Fact]
    public void RnnInputStepForward_gives_the_same_bits_on_one_two_or_three_cpu_threads()
    {
        const int batch = 2, input = 64, hidden = 256;
        var rng = new Random(11);
        float[][] data = [Numerics.Random(rng, batch * input), Numerics.Random(rng, hidden * input, 0.5f), Numerics.Random(rng, hidden),
            Numerics.Random(rng, hidden), Numerics.Random(rng, batch * hidden), Numerics.Random(rng, hidden * hidden, 0.5f)];
        float[] Run(int threads)
        {
            using var acc = new Accelerators.Cpu.CpuAccelerator(threads);
            var owned = new List<DeviceBuffer>();
            var s = data.Select(d => Upload(acc, d, owned)).ToArray();
            var h = Upload(acc, new float[batch * hidden], owned);
            acc.RnnInputStepForward(Activation.Tanh, batch, hidden, input, s[0], s[1], s[2], s[3], s[4], s[5], h);
            var result = acc.ToArray(h);
            owned.ForEach(buffer => buffer.Dispose());
            return result;
        }
        var alone = Run(1);
        Assert.Equal(alone, Run(2));
        Assert.Equal(alone, Run(3));
    }

    public static IEnumerable<object[]> StepCases()
    {
        foreach (var backend in TestBackends.Names)
        foreach (var act in new[] { Activation.Tanh, Activation.Relu })
        foreach (var (batch, hidden) in new[] { (1, 1), (1, 33), (7, 13), (3, 65), (16, 40) })
            yield return [backend, act, batch, hidden];
    }

    [Theory]
    [MemberData(nameof(StepCases))]
    public void RnnStepForward_matches_reference(string backend, Activation act, int batch, int hidden)
    {
        using var acc = TestBackends.Open(backend);
        var rng = new Random(batch * 100 + hidden);
        var pre = Numerics.Random(rng, batch * hidden);
        var hPrev = Numerics.Random(rng, batch * hidden);
        var w = Numerics.Random(rng, hidden * hidden, 0.5f);
        var expected = new float[batch * hidden];
        ReferenceKernels.RnnStepForward(act, batch, hidden, pre, hPrev, w, expected);

        var owned = new List<DeviceBuffer>();
        var h = Upload(acc, new float[batch * hidden], owned);
        acc.RnnStepForward(act, batch, hidden, Upload(acc, pre, owned), Upload(acc, hPrev, owned), Upload(acc, w, owned), h);
        Numerics.AssertClose(expected, acc.ToArray(h), Rtol, Atol, "h");

        // The model runs the step in place: pre and h are the same slice.
        var inPlace = Upload(acc, pre, owned);
        acc.RnnStepForward(act, batch, hidden, inPlace, Upload(acc, hPrev, owned), Upload(acc, w, owned), inPlace);
        Numerics.AssertClose(expected, acc.ToArray(inPlace), Rtol, Atol, "h in place");
    }

    [Theory]
    [MemberData(nameof(StepCases))]
    public void RnnStepBackward_matches_reference(string backend, Activation act, int batch, int hidden)
    {
        using var acc = TestBackends.Open(backend);
        var rng = new Random(batch * 100 + hidden + 1);
        var h = Numerics.Random(rng, batch * hidden);
        if (act == Activation.Relu) for (int i = 0; i < h.Length; i += 3) h[i] = 0f;   // outputs of relu include zeros
        var w = Numerics.Random(rng, hidden * hidden, 0.5f);
        var dhNext = Numerics.Random(rng, batch * hidden);
        var dPre = Numerics.Random(rng, batch * hidden);
        var expectedPre = (float[])dPre.Clone();
        var expectedPrev = new float[batch * hidden];
        ReferenceKernels.RnnStepBackward(act, batch, hidden, h, w, dhNext, expectedPre, expectedPrev);

        var owned = new List<DeviceBuffer>();
        var dp = Upload(acc, dPre, owned);
        var dprev = Upload(acc, Numerics.Random(rng, batch * hidden), owned);   // garbage: must be overwritten
        acc.RnnStepBackward(act, batch, hidden, Upload(acc, h, owned), Upload(acc, w, owned), Upload(acc, dhNext, owned), dp, dprev);
        Numerics.AssertClose(expectedPre, acc.ToArray(dp), Rtol, Atol, "dPre");
        Numerics.AssertClose(expectedPrev, acc.ToArray(dprev), Rtol, Atol, "dhPrev");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void AddBias_and_ColumnSum_match_reference(string backend)
    {
        using var acc = TestBackends.Open(backend);
        var rng = new Random(11);
        foreach (var (rows, cols) in new[] { (1, 1), (7, 13), (65, 33), (130, 7) })
        {
            var owned = new List<DeviceBuffer>();
            var y = Numerics.Random(rng, rows * cols);
            var bias = Numerics.Random(rng, cols);
            var expected = (float[])y.Clone();
            ReferenceKernels.AddBias(rows, cols, bias, expected);
            var dy = Upload(acc, y, owned);
            acc.AddBias(rows, cols, Upload(acc, bias, owned), dy);
            Numerics.AssertClose(expected, acc.ToArray(dy), Rtol, Atol, $"AddBias {rows}x{cols}");

            foreach (float beta in new[] { 0f, 1f, 0.5f })
            {
                var sum = Numerics.Random(rng, cols);
                var expectedSum = (float[])sum.Clone();
                ReferenceKernels.ColumnSum(rows, cols, y, expectedSum, beta);
                var ds = Upload(acc, sum, owned);
                acc.ColumnSum(rows, cols, Upload(acc, y, owned), ds, beta);
                Numerics.AssertClose(expectedSum, acc.ToArray(ds), Rtol, 1e-5, $"ColumnSum {rows}x{cols} beta={beta}");
            }
            owned.ForEach(b => b.Dispose());
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Losses_match_reference(string backend)
    {
        using var acc = TestBackends.Open(backend);
        var rng = new Random(12);
        foreach (var (rows, classes) in new[] { (1, 1), (7, 13), (33, 5), (13, 65) })
        {
            var owned = new List<DeviceBuffer>();
            int n = rows * classes;
            var logits = Numerics.Random(rng, n, 8f);   // large logits exercise the max-subtraction
            var classIds = new float[rows];
            for (int r = 0; r < rows; r++) classIds[r] = rng.Next(classes);
            var (eGrad, eLoss) = (new float[n], new float[rows]);
            ReferenceKernels.SoftmaxCrossEntropy(rows, classes, logits, classIds, eGrad, eLoss, 0.25f);
            var (dGrad, dLoss) = (Upload(acc, new float[n], owned), Upload(acc, new float[rows], owned));
            acc.SoftmaxCrossEntropy(rows, classes, Upload(acc, logits, owned), Upload(acc, classIds, owned), dGrad, dLoss, 0.25f);
            Numerics.AssertClose(eLoss, acc.ToArray(dLoss), 1e-5, 1e-6, "CE loss");
            Numerics.AssertClose(eGrad, acc.ToArray(dGrad), 1e-5, 1e-7, "CE gradient");

            var target = Numerics.Random(rng, n);
            var probabilities = target.Select(v => (v + 1) / 2).ToArray();
            foreach (bool bce in new[] { false, true })
            {
                var t = bce ? probabilities : target;
                var (eg, el) = (new float[n], new float[n]);
                if (bce) ReferenceKernels.BceWithLogitsLoss(n, logits, t, eg, el, 0.5f);
                else ReferenceKernels.MseLoss(n, logits, t, eg, el, 0.5f);
                var (dg, dl) = (Upload(acc, new float[n], owned), Upload(acc, new float[n], owned));
                var (dx, dt) = (Upload(acc, logits, owned), Upload(acc, t, owned));
                if (bce) acc.BceWithLogitsLoss(n, dx, dt, dg, dl, 0.5f);
                else acc.MseLoss(n, dx, dt, dg, dl, 0.5f);
                Numerics.AssertClose(el, acc.ToArray(dl), 1e-5, 1e-6, bce ? "BCE loss" : "MSE loss");
                Numerics.AssertClose(eg, acc.ToArray(dg), 1e-5, 1e-7, bce ? "BCE gradient" : "MSE gradient");
            }
            owned.ForEach(b => b.Dispose());
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Scale_and_SquaredNorm_match_reference(string backend)
    {
        using var acc = TestBackends.Open(backend);
        var rng = new Random(13);
        foreach (int n in new[] { 1, 7, 33, 1000, 100_003 })
        {
            var owned = new List<DeviceBuffer>();
            var x = Numerics.Random(rng, n, n == 33 ? 1e30f : 1f);   // squares beyond float's range must not overflow the sum
            var dx = Upload(acc, x, owned);
            double expected = ReferenceKernels.SquaredNorm(x);
            Assert.InRange(acc.SquaredNorm(dx), expected * (1 - 1e-5), expected * (1 + 1e-5));
            acc.Scale(dx, -0.3f);
            Numerics.AssertClose(x.Select(v => v * -0.3f).ToArray(), acc.ToArray(dx), 1e-6, 1e-30, $"Scale n={n}");
            owned.ForEach(b => b.Dispose());
        }
    }

    public static IEnumerable<object[]> OptimizerCases()
    {
        foreach (var backend in TestBackends.Names)
        foreach (int n in new[] { 1, 13, 1001 })
            yield return [backend, n];
    }

    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void Sgd_and_Adam_updates_match_reference(string backend, int n)
    {
        using var acc = TestBackends.Open(backend);
        var rng = new Random(n);
        var owned = new List<DeviceBuffer>();
        foreach (var sgd in new[] { new SgdStep(0.1f, 0f, 0f, true), new SgdStep(0.05f, 0.9f, 0.01f, true), new SgdStep(0.05f, 0.9f, 0.01f, false) })
        {
            var (p, g, mom) = (Numerics.Random(rng, n), Numerics.Random(rng, n), Numerics.Random(rng, n));
            var (ep, emom) = ((float[])p.Clone(), (float[])mom.Clone());
            ReferenceKernels.SgdUpdate(ep, g, emom, sgd);
            var (dp, dm) = (Upload(acc, p, owned), Upload(acc, mom, owned));
            acc.SgdUpdate(dp, Upload(acc, g, owned), dm, sgd);
            Numerics.AssertClose(ep, acc.ToArray(dp), 1e-6, 1e-7, $"SGD param {sgd}");
            if (sgd.Momentum != 0) Numerics.AssertClose(emom, acc.ToArray(dm), 1e-6, 1e-7, $"SGD momentum {sgd}");
        }
        var adam = new AdamStep(0.9f, 0.999f, 1e-8f, 0.01f, 0.01f / (1 - 0.9f * 0.9f), MathF.Sqrt(1 - 0.999f * 0.999f));
        var (ap, ag) = (Numerics.Random(rng, n), Numerics.Random(rng, n));
        var am = Numerics.Random(rng, n, 0.1f);
        var av = Numerics.Random(rng, n, 0.1f).Select(MathF.Abs).ToArray();
        var (eap, eam, eav) = ((float[])ap.Clone(), (float[])am.Clone(), (float[])av.Clone());
        ReferenceKernels.AdamUpdate(eap, ag, eam, eav, adam);
        var (dap, dam, dav) = (Upload(acc, ap, owned), Upload(acc, am, owned), Upload(acc, av, owned));
        acc.AdamUpdate(dap, Upload(acc, ag, owned), dam, dav, adam);
        Numerics.AssertClose(eap, acc.ToArray(dap), 1e-6, 1e-7, "Adam param");
        Numerics.AssertClose(eam, acc.ToArray(dam), 1e-6, 1e-7, "Adam m");
        Numerics.AssertClose(eav, acc.ToArray(dav), 1e-6, 1e-7, "Adam v");
        owned.ForEach(b => b.Dispose());
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Copy_Fill_and_bad_slices(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var a = acc.Allocate(20);
        using var b = acc.Allocate(20);
        acc.CopyIn(Enumerable.Range(0, 20).Select(i => (float)i).ToArray(), a);
        acc.Fill(b, 7f);
        acc.Copy(a.Slice(5, 10), b.Slice(2, 10));
        var expected = Enumerable.Repeat(7f, 20).ToArray();
        for (int i = 0; i < 10; i++) expected[2 + i] = 5 + i;
        Assert.Equal(expected, acc.ToArray(b));

        Assert.Contains("outside", Assert.Throws<ShapeException>(() => a.Slice(15, 10)).Message);
        Assert.Throws<ShapeException>(() => acc.CopyIn(new float[21], a));
        Assert.Throws<ShapeException>(() => acc.Allocate(-1));
        Assert.Contains("overlaps", Assert.Throws<ShapeException>(() => acc.Copy(a.Slice(0, 10), a.Slice(5, 10))).Message);
        using var other = TestBackends.Open(backend);
        using var foreign = other.Allocate(20);
        Assert.Contains("another accelerator", Assert.Throws<ShapeException>(() => acc.Copy(foreign, a)).Message);
        b.Dispose();
        Assert.Contains("disposed", Assert.Throws<ShapeException>(() => acc.Fill(b, 0f)).Message);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Kernels_refuse_negative_sizes_strides_and_aliased_outputs(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var buf = acc.Allocate(100);
        using var w = acc.Allocate(16);
        Assert.Throws<ShapeException>(() => acc.AddBias(-1, 4, buf, buf.Slice(10, 4)));
        Assert.Throws<ShapeException>(() => acc.Gemm(GemmSpec.Dense(false, false, 2, 2, 2) with { BatchCount = 2, StrideC = -4 }, buf, buf, buf.Slice(50, 50)));
        Assert.Throws<ShapeException>(() => acc.Gemm(GemmSpec.Dense(false, false, 2, 2, 2) with { BatchCount = 2, StrideC = 1 }, buf.Slice(0, 20), buf.Slice(20, 20), buf.Slice(50, 20)));
        Assert.Throws<ShapeException>(() => acc.SoftmaxCrossEntropy(2, 0, buf, buf, buf, buf, 1f));
        // h_prev and h may not share elements; pre and h may be the very same slice, as the model uses them.
        Assert.Contains("overlaps hPrev", Assert.Throws<ShapeException>(() =>
            acc.RnnStepForward(Activation.Tanh, 2, 4, buf.Slice(0, 8), buf.Slice(4, 8), w, buf.Slice(8, 8))).Message);
        acc.RnnStepForward(Activation.Tanh, 2, 4, buf.Slice(0, 8), buf.Slice(20, 8), w, buf.Slice(0, 8));
        Assert.Throws<ShapeException>(() =>
            acc.RnnStepBackward(Activation.Tanh, 2, 4, buf.Slice(0, 8), w, buf.Slice(10, 8), buf.Slice(20, 8), buf.Slice(24, 8)));
        Assert.Throws<ShapeException>(() => acc.RnnStepForward((Activation)7, 2, 4, buf.Slice(0, 8), buf.Slice(20, 8), w, buf.Slice(0, 8)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Cross_entropy_poisons_rows_whose_target_is_not_a_class(string backend)
    {
        using var acc = TestBackends.Open(backend);
        var owned = new List<DeviceBuffer>();
        var logits = Upload(acc, Numerics.Random(new Random(3), 4 * 5), owned);
        var targets = Upload(acc, [1f, 5f, -1f, 2.5f], owned);
        var (grad, loss) = (Upload(acc, new float[20], owned), Upload(acc, new float[4], owned));
        acc.SoftmaxCrossEntropy(4, 5, logits, targets, grad, loss, 1f);
        var l = acc.ToArray(loss);
        Assert.True(float.IsFinite(l[0]) && l[0] > 0);
        Assert.All(l[1..], v => Assert.True(float.IsNaN(v)));
        Assert.All(acc.ToArray(grad)[5..], v => Assert.True(float.IsNaN(v)));
        owned.ForEach(b => b.Dispose());
    }
}
