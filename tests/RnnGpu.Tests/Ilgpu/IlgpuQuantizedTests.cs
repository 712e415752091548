using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu.Reference;
using RnnGpu.Accelerators.Ilgpu;
using RnnGpu.Kernels;
using RnnGpu.Model;
using RnnGpu.Tests.Support;
using static RnnGpu.Tests.Ilgpu.IlgpuCpuDevices;

namespace RnnGpu.Tests.Ilgpu;

/// <summary>
/// The quantized product on ILGPU's CPU accelerator, in both device kinds, against a float64 reference over the stored int8
/// (times the row scales) or bf16 values at awkward sizes, column offsets, beta 0 and 1, a bias and the activation; and the
/// back end computes every quantized product of a model (input projections, each recurrent step, head) from its device
/// copy of the stored values: with the float32 twin zeroed its outputs do not change by a bit.
/// </summary>
public sealed class IlgpuQuantizedTests(IlgpuCpuDevices devices) : IClassFixture<IlgpuCpuDevices>
{
    public static TheoryData<string, QuantizedWeights> KindsAndWeights()
    {
        var cases = new TheoryData<string, QuantizedWeights>();
        foreach (var kind in new[] { "default", "nvidia" })
            foreach (var weights in new[] { QuantizedWeights.Int8, QuantizedWeights.Bf16 })
                cases.Add(kind, weights);
        return cases;
    }

    [Theory]
    [MemberData(nameof(KindsAndWeights))]
    public void The_quantized_product_matches_the_reference_over_the_stored_values(string kind, QuantizedWeights weights)
    {
        var accelerator = devices.Get(kind);
        var rng = new Random(weights == QuantizedWeights.Int8 ? 7 : 8);
        // M, N, K multiples of no tile; K from column 11 of a 50-column matrix; A and C rows padded.
        int m = 13, n = 23, k = 37, cols = 50, column = 11, lda = k + 3, ldc = n + 2;
        var w = QuantizedMatrix.Quantize(weights, Numerics.Random(rng, n * cols, 0.4f), n, cols);
        var a = Numerics.Random(rng, m * lda, 2f);
        var bias = Numerics.Random(rng, n);
        var c = Numerics.Random(rng, m * ldc);
        var values = w.Dequantize();
        foreach (var (beta, act, withBias) in new[] { (0f, Act.None, false), (1f, Act.None, true), (1f, Act.Tanh, false), (0f, Act.Relu, true) })
        {
            var expected = (float[])c.Clone();
            for (int r = 0; r < m; r++)
            for (int j = 0; j < n; j++)
            {
                double v = beta * (double)c[r * ldc + j] + (withBias ? bias[j] : 0);
                for (int i = 0; i < k; i++) v += a[r * lda + i] * (double)values[j * cols + column + i];
                expected[r * ldc + j] = (float)(act == Act.Tanh ? Math.Tanh(v) : act == Act.Relu ? Math.Max(v, 0) : v);
            }
            // beta 0 overwrites C: a NaN there must not leak.
            var start = beta == 0f ? c.Select((v, i) => i % ldc < n ? float.NaN : v).ToArray() : c;
            var args = new QuantizedGemmArgs
            {
                M = m, N = n, K = k, Lda = lda, Ldw = cols, Column = column, Ldc = ldc, Act = act,
                Int8 = weights == QuantizedWeights.Int8 ? 1 : 0, HasBias = withBias ? 1 : 0, Beta = beta,
            };
            var actual = Run(accelerator, GemmGroup(kind), args, a, w, withBias ? bias : [], start);
            Numerics.AssertClose(expected, actual, 2e-5, 1e-5, $"{kind} {weights.ToName()} beta {beta} act {act} bias {withBias}");
        }
    }

    /// <summary>The product in the group shape the back end gives it on a GPU, 16 x 16 (tiles of 64 x 64), on the warp-32 device.</summary>
    [Theory]
    [InlineData(QuantizedWeights.Int8)]
    [InlineData(QuantizedWeights.Bf16)]
    public void The_quantized_product_in_the_gpu_group_shape_matches_the_reference(QuantizedWeights weights)
    {
        var accelerator = devices.Get("nvidia");
        var rng = new Random(41);
        int m = 70, n = 75, k = 37;   // 2 x 2 tiles, both partial; 3 slabs of K, the last partial
        var w = QuantizedMatrix.Quantize(weights, Numerics.Random(rng, n * k, 0.4f), n, k);
        var a = Numerics.Random(rng, m * k);
        var c = Numerics.Random(rng, m * n);
        var values = w.Dequantize();
        var expected = (float[])c.Clone();
        ReferenceKernels.Gemm(GemmSpec.Dense(false, true, m, n, k, 1f, 1f), a, values, expected);
        var args = new QuantizedGemmArgs
        {
            M = m, N = n, K = k, Lda = k, Ldw = k, Ldc = n, Act = Act.None, Int8 = weights == QuantizedWeights.Int8 ? 1 : 0, Beta = 1f,
        };
        Numerics.AssertClose(expected, Run(accelerator, (16, 16), args, a, w, [], c), 2e-5, 1e-5, $"16x16 groups {weights.ToName()}");
    }

    private static float[] Run(CPUAccelerator accelerator, (int X, int Y) group, QuantizedGemmArgs args, float[] a, QuantizedMatrix w, float[] bias, float[] c)
    {
        var kernel = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<sbyte>, ArrayView<ushort>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            QuantizedGemmArgs>(QuantizedGemm.Kernel);
        using var ab = Upload(accelerator, a);
        using var cb = Upload(accelerator, c);
        using var biasBuffer = Upload(accelerator, bias);
        using var scales = Upload(accelerator, w.Scales.ToArray());
        using var int8 = accelerator.Allocate1D(w.Int8Values.IsEmpty ? new sbyte[1] : w.Int8Values.ToArray());
        using var bf16 = accelerator.Allocate1D(w.Bf16Values.IsEmpty ? new ushort[1] : w.Bf16Values.ToArray());
        kernel(QuantizedGemm.Config(args, group.X, group.Y), ab.View, int8.View, bf16.View, scales.View, biasBuffer.View, cb.View, args);
        accelerator.Synchronize();
        return Download(cb, c.Length);
    }

    private static readonly RnnConfig[] Configs =
    [
        new(5, 11, 2, Activation.Relu, OutputSize: 3, Bidirectional: true),
        new(4, 9, 1, OutputSize: 2, Cell: CellKind.Lstm, ProjSize: 5, Bidirectional: true),
        new(3, 13, 2, OutputSize: 2, Cell: CellKind.Gru, Bidirectional: true),
    ];

    public static IEnumerable<TheoryDataRow<int, QuantizedWeights>> ModelCases() =>
        from c in Enumerable.Range(0, Configs.Length)
        from kind in new[] { QuantizedWeights.Int8, QuantizedWeights.Bf16 }
        select new TheoryDataRow<int, QuantizedWeights>(c, kind);

    [Theory]
    [MemberData(nameof(ModelCases))]
    public void A_quantized_model_on_ilgpu_computes_from_the_device_copies_of_its_stored_weights(int configIndex, QuantizedWeights kind)
    {
        var config = Configs[configIndex];
        using var acc = IlgpuAccelerator.OpenCpu();
        using var model = RnnModel.Create(config, acc, seed: 60 + configIndex);
        model.Quantize(kind);
        const int batch = 3, time = 5;
        int[] lengths = [5, 2, 4];
        var x = new Tensor(Numerics.Random(new Random(configIndex), batch * time * config.InputSize), batch, time, config.InputSize);
        var before = model.Forward(x, lengths: lengths).Output.Data;
        Assert.Equal(model.QuantizableNames.Count(), acc.QuantizedCopies);

        foreach (string name in model.QuantizableNames) acc.Fill(model.Parameter(name), 0f);
        var after = model.Forward(x, lengths: lengths).Output.Data;
        Assert.Equal(before, after);

        model.Dispose();
        Assert.Equal(0, acc.QuantizedCopies);
    }
}
