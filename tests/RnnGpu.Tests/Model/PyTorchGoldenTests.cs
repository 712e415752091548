using System.Globalization;
using RnnGpu.Accelerators;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Tests.Support;
using RnnGpu.Training;

namespace RnnGpu.Tests.Model;

/// <summary>
/// The engine against PyTorch 1.13 (nn.RNN, nn.LSTM or nn.GRU + nn.Linear in float64, Fixtures/make_golden.py,
/// make_golden_sequences.py and make_golden_cell_models.py): forward outputs and final states (h and an LSTM's c), the
/// loss, every gradient (with h0's and c0's), and two optimizer steps with clipping.
/// </summary>
public sealed class PyTorchGoldenTests
{
    public static IEnumerable<object[]> Cases()
    {
        string[] fixtures = ["tanh_1layer_mse", "relu_2layer_ce", "tanh_3layer_bce", "tanh_2layer_nohead_mse", "relu_1layer_sgd_clip",
            "bidi_1layer_mse", "bidi_2layer_relu_ce", "packed_2layer_mse", "packed_bidi_ce", "many_to_one_mse", "many_to_one_bidi_ce",
            "cellmodel_lstm_1layer_mse", "cellmodel_lstm_proj_2layer_ce", "cellmodel_lstm_bidi_packed_mse", "cellmodel_lstm_many_to_one_ce",
            "cellmodel_gru_2layer_ce", "cellmodel_gru_bidi_packed_mse", "cellmodel_gru_many_to_one_mse"];
        // Every back end, the ILGPU kernels on ILGPU's CPU accelerator among them: the code a GPU runs, against PyTorch.
        foreach (var backend in TestBackends.Names.Select(row => row.Data))
        foreach (var f in fixtures)
            yield return [backend, f];
    }

    private const double Rtol = 1e-4, Atol = 1e-5;

    internal static SafetensorsFile Load(string name) =>
        SafetensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", name + ".safetensors"));

    internal static RnnConfig ConfigOf(SafetensorsFile f) => new(
        Int(f, "input_size"), Int(f, "hidden_size"), Int(f, "num_layers"),
        ActivationNames.Parse(f.Metadata["nonlinearity"]), Int(f, "output_size"),
        Bidirectional: f.Metadata.GetValueOrDefault("bidirectional") == "1",
        HeadInput: f.Metadata.GetValueOrDefault("task") == "many_to_one" ? HeadInput.FinalState : HeadInput.EveryStep,
        Cell: CellKindNames.ParseCell(f.Metadata.GetValueOrDefault("cell", "rnn")), ProjSize: int.Parse(f.Metadata.GetValueOrDefault("proj_size", "0")));

    /// <summary>An LSTM's c0, null for the other cells.</summary>
    internal static Tensor? CellOf(SafetensorsFile f) => f.Tensors.GetValueOrDefault("c0");

    /// <summary>Each sequence's length, for the cases with packed sequences; null for full batches.</summary>
    internal static int[]? LengthsOf(SafetensorsFile f) =>
        f.Tensors.TryGetValue("lengths", out var l) ? l.Data.Select(v => (int)v).ToArray() : null;

    private static int Int(SafetensorsFile f, string key) => int.Parse(f.Metadata[key], CultureInfo.InvariantCulture);

    private static float Float(SafetensorsFile f, string key) => float.Parse(f.Metadata[key], CultureInfo.InvariantCulture);

    private static Dictionary<string, Tensor> Parameters(SafetensorsFile f, RnnConfig config, string prefix) =>
        new ParameterLayout(config).Parameters.ToDictionary(p => p.Name, p => f.Get(prefix + p.Name, p.Shape));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_matches_pytorch(string backend, string fixture)
    {
        var f = Load(fixture);
        var config = ConfigOf(f);
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.FromParameters(config, acc, Parameters(f, config, ""));
        var result = model.Forward(f.Tensors["input"], f.Tensors["h0"], LengthsOf(f), CellOf(f));
        Numerics.AssertClose(f.Tensors["output"].Data, result.Output.Data, Rtol, Atol, "output");
        Numerics.AssertClose(f.Tensors["h_n"].Data, result.FinalState.Data, Rtol, Atol, "h_n");
        if (config.HasCellState) Numerics.AssertClose(f.Tensors["c_n"].Data, result.FinalCell!.Data, Rtol, Atol, "c_n");
        Assert.Equal(f.Tensors["output"].Shape, result.Output.Shape);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Loss_and_gradients_match_pytorch(string backend, string fixture)
    {
        var f = Load(fixture);
        var config = ConfigOf(f);
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.FromParameters(config, acc, Parameters(f, config, ""));
        var loss = LossNames.Parse(f.Metadata["loss"]);
        var g = model.ComputeGradients(f.Tensors["input"], f.Tensors["target"], loss, f.Tensors["h0"], LengthsOf(f), initialCell: CellOf(f));
        Assert.Equal(f.Tensors["loss"].Data[0], g.Loss, 1e-5);
        foreach (var p in model.Layout.Parameters)
            Numerics.AssertClose(f.Tensors["grad." + p.Name].Data, g.Parameters[p.Name].Data, Rtol, Atol, "grad." + p.Name);
        Numerics.AssertClose(f.Tensors["grad.input"].Data, g.Input.Data, Rtol, Atol, "grad.input");
        Numerics.AssertClose(f.Tensors["grad.h0"].Data, g.InitialState.Data, Rtol, Atol, "grad.h0");
        if (config.HasCellState) Numerics.AssertClose(f.Tensors["grad.c0"].Data, g.InitialCell!.Data, Rtol, Atol, "grad.c0");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Two_training_steps_match_pytorch(string backend, string fixture)
    {
        var f = Load(fixture);
        var config = ConfigOf(f);
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.FromParameters(config, acc, Parameters(f, config, ""));
        float lr = Float(f, "lr"), wd = Float(f, "weight_decay");
        using Optimizer optimizer = f.Metadata["optimizer"] == "sgd"
            ? new Sgd(lr, Float(f, "momentum"), wd)
            : new Adam(lr, weightDecay: wd);
        float? clip = f.Metadata["clip"] == "none" ? null : Float(f, "clip");
        var trainer = new Trainer(model, optimizer, LossNames.Parse(f.Metadata["loss"]), clip);

        var first = trainer.Step(f.Tensors["input"], f.Tensors["target"], f.Tensors["h0"], LengthsOf(f), CellOf(f));
        Assert.Equal(f.Tensors["loss"].Data[0], first.Loss, 1e-5);
        if (clip is not null) Assert.Equal(f.Tensors["clip.total_norm"].Data[0], first.GradientNorm, 1e-5);
        AssertParameters(model, Parameters(f, config, "step1."), "step 1");

        var second = trainer.Step(f.Tensors["input"], f.Tensors["target"], f.Tensors["h0"], LengthsOf(f), CellOf(f));
        Assert.Equal(f.Tensors["step2.loss"].Data[0], second.Loss, 1e-5);
        AssertParameters(model, Parameters(f, config, "step2."), "step 2");
    }

    private static void AssertParameters(RnnModel model, Dictionary<string, Tensor> expected, string when)
    {
        var actual = model.StateDict();
        foreach (var (name, tensor) in expected)
            Numerics.AssertClose(tensor.Data, actual[name].Data, Rtol, Atol, $"{name} after {when}");
    }
}
