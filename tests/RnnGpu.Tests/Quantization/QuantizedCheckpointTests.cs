using System.Text;
using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Serving;
using RnnGpu.Tasks;
using RnnGpu.Tests.Cli;
using RnnGpu.Tests.Support;
using RnnGpu.Text;

namespace RnnGpu.Tests.Quantization;

/// <summary>
/// Quantized checkpoints (I8 weights with F32 scales, or BF16 weights) save and load bit for bit; a float32 checkpoint quantizes
/// at load, through the library, `rnngpu run`, `rnngpu bench` and the service; damaged quantized files are refused by name.
/// </summary>
public sealed class QuantizedCheckpointTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static readonly RnnConfig Lstm = new(4, 12, 2, OutputSize: 3, Cell: CellKind.Lstm, ProjSize: 5);

    private string SaveFloat32(string name, RnnConfig config, int seed = 7)
    {
        using var acc = new CpuAccelerator();
        using var model = RnnModel.Create(config, acc, seed);
        string path = _cli.File(name);
        Checkpoint.Save(model, path);
        return path;
    }

    [Theory]
    [InlineData(QuantizedWeights.Int8)]
    [InlineData(QuantizedWeights.Bf16)]
    public void A_quantized_checkpoint_round_trips_bit_for_bit(QuantizedWeights kind)
    {
        using var acc = new CpuAccelerator();
        using var model = Checkpoint.Load(SaveFloat32("f.safetensors", Lstm), acc, kind);
        Assert.Equal(kind, model.Weights);
        string path = _cli.File("q.safetensors");
        Checkpoint.Save(model, path);

        var file = SafetensorsFile.Read(path);
        string suffix = kind == QuantizedWeights.Int8 ? ".int8" : ".bf16", dtype = kind == QuantizedWeights.Int8 ? "I8" : "BF16";
        Assert.Equal(dtype, file.DTypes["rnn.weight_hh_l0" + suffix]);
        Assert.Equal(kind.ToName(), file.Metadata["weights"]);
        Assert.DoesNotContain("rnn.weight_hh_l0", file.Tensors.Keys);
        Assert.Equal("F32", file.DTypes["rnn.bias_hh_l0"]);
        if (kind == QuantizedWeights.Int8) Assert.Equal([48], file.Tensors["rnn.weight_hh_l0.scale"].Shape);

        using var loaded = Checkpoint.Load(path, acc);
        Assert.Equal(kind, loaded.Weights);
        foreach (var (name, w) in model.QuantizedParameters)
        {
            var back = loaded.QuantizedParameters[name];
            Assert.Equal(w.Int8Values.ToArray(), back.Int8Values.ToArray());
            Assert.Equal(w.Bf16Values.ToArray(), back.Bf16Values.ToArray());
            Assert.Equal(w.Scales.ToArray(), back.Scales.ToArray());
        }
        var x = new Tensor(Numerics.Random(new Random(2), 2 * 5 * 4), 2, 5, 4);
        Assert.Equal(model.Forward(x).Output.Data, loaded.Forward(x).Output.Data);
        Assert.Contains("load as", Assert.Throws<FileFormatException>(() => Checkpoint.Load(path, acc, QuantizedWeights.Fp32)).Message);
    }

    /// <summary>Rewrites a saved int8 checkpoint with one change to its tensors.</summary>
    private string Damaged(string name, Action<Dictionary<string, Tensor>, Dictionary<string, SafetensorsDType>> change)
    {
        using var acc = new CpuAccelerator();
        using var model = Checkpoint.Load(SaveFloat32("f.safetensors", Lstm), acc, QuantizedWeights.Int8);
        var (tensors, dtypes) = QuantizedCheckpoint.Tensors(model);
        change(tensors, dtypes);
        string path = _cli.File(name);
        SafetensorsWriter.Write(path, tensors, Checkpoint.Metadata(model), dtypes);
        return path;
    }

    [Fact]
    public void Damaged_quantized_checkpoints_are_refused_by_name()
    {
        using var acc = new CpuAccelerator();
        string noScales = Damaged("a.safetensors", (t, _) => t.Remove("rnn.weight_hh_l1.scale"));
        Assert.Contains("'rnn.weight_hh_l1.scale' is missing", Assert.Throws<FileFormatException>(() => Checkpoint.Load(noScales, acc)).Message);
        string shortScales = Damaged("b.safetensors", (t, _) => t["rnn.weight_ih_l0.scale"] = new Tensor(new float[47], 47));
        Assert.Contains("its scales have 47", Assert.Throws<FileFormatException>(() => Checkpoint.Load(shortScales, acc)).Message);
        string matrixScales = Damaged("c.safetensors", (t, _) => t["rnn.weight_ih_l0.scale"] = new Tensor(new float[48], 48, 1));
        Assert.Contains("expected [rows]", Assert.Throws<FileFormatException>(() => Checkpoint.Load(matrixScales, acc)).Message);
        string strayScales = Damaged("d.safetensors", (t, _) => t["rnn.bias_ih_l0.scale"] = new Tensor(new float[48], 48));
        Assert.Contains("without their int8 tensor", Assert.Throws<FileFormatException>(() => Checkpoint.Load(strayScales, acc)).Message);
        string asFloat = Damaged("e.safetensors", (_, d) => d.Remove("rnn.weight_hh_l0.int8"));
        Assert.Contains("is F32, expected I8", Assert.Throws<FileFormatException>(() => Checkpoint.Load(asFloat, acc)).Message);
        string missing = Damaged("f.safetensors", (t, d) => { t.Remove("rnn.weight_hr_l1.int8"); t.Remove("rnn.weight_hr_l1.scale"); });
        Assert.Throws<FileFormatException>(() => Checkpoint.Load(missing, acc));
    }

    [Fact]
    public void Run_and_bench_take_the_weights()
    {
        string model = SaveFloat32("m.safetensors", new RnnConfig(3, 16, 1, OutputSize: 2, Cell: CellKind.Gru));
        var x = new Tensor(Numerics.Random(new Random(4), 3 * 9 * 3), 3, 9, 3);
        string xPath = _cli.WriteNpy("x.npy", NpyArray.FromTensor(x));
        using var acc = new CpuAccelerator();
        foreach (var kind in new[] { QuantizedWeights.Int8, QuantizedWeights.Bf16 })
        {
            string outPath = _cli.File($"y-{kind.ToName()}.npy");
            _cli.Ok("run", "--model", model, "--inputs", xPath, "--output", outPath, "--weights", kind.ToName(), "--backend", "cpu");
            using var quantized = Checkpoint.Load(model, acc, kind);
            Assert.Equal(quantized.Forward(x).Output.Data, NpyArray.Read(outPath).ToTensor().Data);
            var line = _cli.Ok("bench", "--cell", "gru", "--batch", "2", "--seq", "5", "--hidden", "16", "--mode", "infer", "--iters", "2", "--weights", kind.ToName(),
                "--backend", "cpu").Out;
            Assert.Contains($"\"weights\":\"{kind.ToName()}\"", line);
        }
        _cli.Fails(["bench", "--cell", "gru", "--weights", "int8", "--backend", "cpu"], "runs inference only");
        _cli.Fails(["run", "--model", model, "--inputs", xPath, "--output", _cli.File("z.npy"), "--weights", "int4"], "int4");
    }

    [Theory]
    [InlineData(QuantizedWeights.Int8)]
    [InlineData(QuantizedWeights.Bf16)]
    public void An_encoder_decoder_quantizes_saves_loads_and_runs_quantized(QuantizedWeights kind)
    {
        using var acc = new CpuAccelerator();
        var encoderConfig = new RnnConfig(3, 10, 2, OutputSize: 0, Cell: CellKind.Lstm);
        var decoderConfig = new RnnConfig(4, 10, 2, OutputSize: 4, Cell: CellKind.Lstm);
        string fp32 = _cli.File("pair.safetensors");
        using (var pair = Seq2SeqModel.Create(encoderConfig, decoderConfig, acc, seed: 5, FeedbackKind.ArgmaxOneHot))
            Seq2SeqCheckpoint.Save(pair, fp32);
        var xs = new Tensor(Numerics.Random(new Random(6), 3 * 7 * 3), 3, 7, 3);

        // Quantized at load, and quantized in memory: the same weights, the same decoding.
        using var loaded = Seq2SeqCheckpoint.Load(fp32, acc, kind);
        using var inMemory = Seq2SeqCheckpoint.Load(fp32, acc);
        var float32 = inMemory.Generate(xs, 5).Output.Data;
        inMemory.Quantize(kind);
        Assert.Equal(kind, loaded.Weights);
        Assert.Equal(kind, inMemory.Weights);
        var decoded = loaded.Generate(xs, 5);
        Assert.Equal(inMemory.Generate(xs, 5).Output.Data, decoded.Output.Data);
        Assert.NotEqual(float32, decoded.Output.Data);

        string path = _cli.File("pair-q.safetensors");
        Seq2SeqCheckpoint.Save(loaded, path);
        var file = SafetensorsFile.Read(path);
        string suffix = kind == QuantizedWeights.Int8 ? ".int8" : ".bf16";
        Assert.Equal(kind == QuantizedWeights.Int8 ? "I8" : "BF16", file.DTypes["encoder.rnn.weight_hh_l1" + suffix]);
        Assert.Equal(kind == QuantizedWeights.Int8 ? "I8" : "BF16", file.DTypes["decoder.head.weight" + suffix]);
        Assert.Equal("F32", file.DTypes["decoder.head.bias"]);
        using var reloaded = Seq2SeqCheckpoint.Load(path, acc);
        Assert.Equal(kind, reloaded.Weights);
        Assert.Equal(decoded.Output.Data, reloaded.Generate(xs, 5).Output.Data);

        string x = _cli.WriteNpy("xs.npy", NpyArray.FromTensor(xs)), output = _cli.File("out.npy");
        _cli.Ok("run", "--model", fp32, "--inputs", x, "--generate", "5", "--output", output, "--weights", kind.ToName(), "--backend", "cpu");
        Assert.Equal(decoded.Output.Data, NpyArray.Read(output).ToFloat32());

        var target = new Tensor(new float[3 * 5 * 4], 3, 5, 4);
        Assert.Contains("float32 weights", Assert.Throws<ShapeException>(() =>
            loaded.ComputeGradients(xs, new Tensor(new float[3 * 5 * 4], 3, 5, 4), target, RnnGpu.Training.LossKind.Mse)).Message);
        using var encoder = RnnModel.Create(encoderConfig, acc);
        using var decoder = RnnModel.Create(decoderConfig, acc);
        encoder.Quantize(kind);
        Assert.Contains("quantize both alike", Assert.Throws<ShapeException>(() => new Seq2SeqModel(encoder, decoder)).Message);
    }

    [Fact]
    public void Sample_takes_the_weights()
    {
        string text = _cli.WriteText("t.txt", string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 20)));
        string model = _cli.File("c.safetensors");
        _cli.Ok("train", "--text", text, "--steps", "20", "--hidden", "16", "--cell", "gru", "--batch-size", "4", "--seq-length", "16", "--sample-length", "0",
            "--save", model, "--backend", "cpu");
        var line = _cli.Ok("sample", "--model", model, "--prompt", "the ", "--length", "30", "--seed", "5", "--weights", "int8", "--backend", "cpu").Out.TrimEnd('\n');
        using var acc = new CpuAccelerator();
        using var quantized = Checkpoint.Load(model, acc, QuantizedWeights.Int8);
        Assert.Equal("the " + new CharSampler(quantized).Generate("the ", 30, 0.8f, 5), line);
    }

    [Fact]
    public async Task The_service_serves_quantized_weights()
    {
        var config = new RnnConfig(3, 16, 1, OutputSize: 2, Cell: CellKind.Lstm);
        string model = SaveFloat32("s.safetensors", config);
        var x = Numerics.Random(new Random(6), 7 * 3);
        using var acc = new CpuAccelerator();
        using var expected = Checkpoint.Load(model, acc, QuantizedWeights.Int8);
        var want = expected.Forward(new Tensor(x, 1, 7, 3)).Output.Data;
        using var served = new RnnInference(new RnnServingOptions { CheckpointPath = model, Weights = "int8", Executors = 1 });
        Assert.Equal("int8", served.Model.Weights);
        var got = await served.PredictAsync(x, 7, ct: TestContext.Current.CancellationToken);
        Numerics.AssertClose(want, got.Output, 1e-6, 1e-6, "served int8");
        Assert.Contains("RnnServing:Weights", Assert.Throws<ShapeException>(() => new RnnInference(new RnnServingOptions { CheckpointPath = model, Weights = "fp16" })).Message);
    }
}
