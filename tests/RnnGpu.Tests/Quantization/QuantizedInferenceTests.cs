using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Tests.Model;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Quantization;

/// <summary>
/// Quantized models end to end, every cell, bidirectional, stacked, with variable lengths: a bf16 model computes exactly its
/// rounded weights (against the float64 reference over them); an int8 model on the CPU quantizes the recurrent products'
/// activations per row and step, and matches the float64 reference doing the same; every back end stays within the
/// quantization's error of the float32 model; streams give the whole sequence's outputs; a quantized model refuses training.
/// </summary>
public sealed class QuantizedInferenceTests
{
    private static readonly RnnConfig[] Configs =
    [
        new(5, 24, 2, OutputSize: 3, Bidirectional: true),
        new(4, 20, 2, OutputSize: 2, Cell: CellKind.Lstm, Bidirectional: true),
        new(6, 19, 1, OutputSize: 4, Cell: CellKind.Lstm, ProjSize: 7),
        new(3, 33, 2, OutputSize: 2, Cell: CellKind.Gru, Bidirectional: true),
        new(7, 16, 2, Activation.Relu),
    ];

    public static IEnumerable<TheoryDataRow<string, int, QuantizedWeights>> Cases() =>
        from backend in TestBackends.Names
        from c in Enumerable.Range(0, Configs.Length)
        from kind in new[] { QuantizedWeights.Int8, QuantizedWeights.Bf16 }
        select new TheoryDataRow<string, int, QuantizedWeights>(backend.Data, c, kind);

    private const int Batch = 4, Time = 6;
    private static readonly int[] Lengths = [6, 3, 5, 4];   // 18 rows: the input projections and the head run over more than CpuQuantizedGemm.MaxRows

    /// <summary>What the CPU's int8 recurrent products see of a state: each value rounded to its row's 255 levels.</summary>
    private static double[] Int8Levels(double[] v)
    {
        float max = 0f;
        foreach (double e in v) max = MathF.Max(max, MathF.Abs((float)e));
        if (max == 0f) return v;
        float inverse = 127f / max, scale = max / 127f;
        return v.Select(e => Math.Clamp(Math.Round((float)e * inverse, MidpointRounding.ToEven), -127, 127) * (double)scale).ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_quantized_model_computes_its_quantized_weights(string backend, int configIndex, QuantizedWeights kind)
    {
        var config = Configs[configIndex];
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(config, acc, seed: 40 + configIndex);
        var x = Numerics.Random(new Random(configIndex), Batch * Time * config.InputSize);
        var fp32 = model.Forward(new Tensor(x, Batch, Time, config.InputSize), lengths: Lengths).Output.Data;
        model.Quantize(kind);
        Assert.Equal(kind, model.Weights);
        var output = model.Forward(new Tensor(x, Batch, Time, config.InputSize), lengths: Lengths).Output.Data;

        // The CPU's int8 recurrences quantize their activations; the other back ends compute float32 over the weights' values.
        bool quantizedActivations = kind == QuantizedWeights.Int8 && acc.Kind == BackendKind.Cpu;
        var reference = new ReferenceRnn(config, model.StateDict().ToDictionary(p => p.Key, p => p.Value.Data.Select(v => (double)v).ToArray()))
        {
            RecurrentOperand = quantizedActivations ? Int8Levels : v => v,
        };
        var h0 = new double[config.NumLayers * config.Directions * Batch * config.StateSize];
        var (expected, _, _) = reference.Run(x.Select(v => (double)v).ToArray(), h0, null, Batch, Time, Lengths);
        Numerics.AssertClose(expected, output, 2e-4, 2e-5, $"{kind.ToName()} against the reference over its weights");
        Numerics.AssertClose(fp32, output, kind == QuantizedWeights.Int8 ? 3e-2 : 1e-2, 2e-2, $"{kind.ToName()} against float32");
    }

    [Theory]
    [InlineData(CellKind.Rnn, 0, QuantizedWeights.Int8)]
    [InlineData(CellKind.Lstm, 0, QuantizedWeights.Int8)]
    [InlineData(CellKind.Lstm, 9, QuantizedWeights.Int8)]
    [InlineData(CellKind.Gru, 0, QuantizedWeights.Int8)]
    [InlineData(CellKind.Lstm, 9, QuantizedWeights.Bf16)]
    [InlineData(CellKind.Gru, 0, QuantizedWeights.Bf16)]
    public void A_quantized_stream_follows_the_whole_sequence(CellKind cell, int proj, QuantizedWeights kind)
    {
        var config = new RnnConfig(5, 24, 2, OutputSize: 3, Cell: cell, ProjSize: proj);
        using var acc = TestBackends.Open("cpu");
        using var model = RnnModel.Create(config, acc, seed: 3);
        model.Quantize(kind);
        const int batch = 2, time = 8;
        var x = Numerics.Random(new Random(2), batch * time * config.InputSize);
        var whole = model.Forward(new Tensor(x, batch, time, config.InputSize)).Output.Data;
        using var stream = model.CreateStream(batch);
        var input = new float[batch * config.InputSize];
        var output = new float[batch * 3];
        var stepped = new float[whole.Length];
        for (int t = 0; t < time; t++)
        {
            for (int b = 0; b < batch; b++) Array.Copy(x, (b * time + t) * config.InputSize, input, b * config.InputSize, config.InputSize);
            stream.Step(input, output);
            for (int b = 0; b < batch; b++) Array.Copy(output, b * 3, stepped, (b * time + t) * 3, 3);
        }
        // A stream's step is a product over 2 rows, which quantizes its input too (int8); the whole sequence's over 16 does not.
        Numerics.AssertClose(whole, stepped, kind == QuantizedWeights.Int8 ? 2e-2 : 1e-4, kind == QuantizedWeights.Int8 ? 1e-2 : 1e-5, "stream");
    }

    [Fact]
    public void A_quantized_model_runs_inference_only()
    {
        var config = new RnnConfig(3, 8, 1, OutputSize: 2, Cell: CellKind.Lstm);
        using var acc = TestBackends.Open("cpu");
        using var model = RnnModel.Create(config, acc);
        model.Quantize(QuantizedWeights.Int8);
        Assert.Contains("already int8", Assert.Throws<ShapeException>(() => model.Quantize(QuantizedWeights.Bf16)).Message);
        var x = new Tensor(Numerics.Random(new Random(1), 2 * 3 * 3), 2, 3, 3);
        var target = new Tensor(new float[2 * 3 * 2], 2, 3, 2);
        Assert.Contains("float32 weights", Assert.Throws<ShapeException>(() => model.ComputeGradients(x, target, RnnGpu.Training.LossKind.Mse)).Message);
        Assert.Contains("float32 weights", Assert.Throws<ShapeException>(() => model.SetParameter("head.bias", new Tensor(new float[2], 2))).Message);
        using var sgd = new RnnGpu.Training.Sgd(0.1f);
        Assert.Contains("float32 weights", Assert.Throws<ShapeException>(() => sgd.Step(model)).Message);
        using var view = model.CreateInferenceView();
        Assert.Equal(QuantizedWeights.Int8, view.Weights);
        Assert.Equal(model.Forward(x).Output.Data, view.Forward(x).Output.Data);
    }

    /// <summary>The accuracy bounds at the benchmarks' sizes: relative L2 distance from float32 within 1e-2 (int8) and 5e-3 (bf16).</summary>
    [Theory]
    [InlineData(CellKind.Rnn, 1, 100, 128, 512)]
    [InlineData(CellKind.Lstm, 1, 100, 128, 512)]
    [InlineData(CellKind.Gru, 1, 100, 128, 512)]
    [InlineData(CellKind.Lstm, 8, 100, 64, 256)]
    [InlineData(CellKind.Gru, 8, 100, 64, 256)]
    public void At_the_benchmark_sizes_the_outputs_stay_within_the_bounds(CellKind cell, int batch, int time, int input, int hidden)
    {
        var config = new RnnConfig(input, hidden, 1, Cell: cell);
        using var acc = TestBackends.Open("cpu");
        var x = new Tensor(Numerics.Random(new Random(1), (long)batch * time * input), batch, time, input);
        using var fp32 = RnnModel.Create(config, acc, seed: 0);
        var exact = fp32.Forward(x).Output.Data;
        foreach (var (kind, bound) in new[] { (QuantizedWeights.Int8, 1e-2), (QuantizedWeights.Bf16, 5e-3) })
        {
            using var model = RnnModel.Create(config, acc, seed: 0);
            model.Quantize(kind);
            var y = model.Forward(x).Output.Data;
            double diff = 0, norm = 0;
            for (int i = 0; i < y.Length; i++) (diff, norm) = (diff + (y[i] - exact[i]) * (double)(y[i] - exact[i]), norm + exact[i] * (double)exact[i]);
            Assert.True(Math.Sqrt(diff / norm) <= bound, $"{kind.ToName()}: relative error {Math.Sqrt(diff / norm):g3} > {bound}");
        }
    }
}
