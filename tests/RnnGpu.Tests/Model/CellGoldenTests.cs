using RnnGpu.Accelerators;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Model;

/// <summary>
/// The LSTM and GRU models on every back end against PyTorch 1.13 (Fixtures/make_golden_cells.py: nn.LSTM with and without
/// a projection and nn.GRU, stacked, bidirectional, packed): outputs, final h and c, and the gradient of every parameter,
/// the input, h0 and c0 of the fixture's loss sum(output R) + sum(h_n Rh) + sum(c_n Rc), put into BPTT as its dL/d(outputs)
/// and dL/d(final states).
/// </summary>
public sealed class CellGoldenTests
{
    public static IEnumerable<object[]> Cases()
    {
        foreach (var backend in TestBackends.Names.Select(row => row.Data))
        foreach (var f in new[] { "cell_lstm_1layer", "cell_lstm_proj_bidi_packed", "cell_gru_2layer", "cell_gru_bidi_packed" })
            yield return [backend, f];
    }

    private const double Rtol = 1e-4, Atol = 2e-5;

    internal static RnnConfig ConfigOf(SafetensorsFile f)
    {
        int Int(string key) => int.Parse(f.Metadata[key]);
        return new RnnConfig(Int("input_size"), Int("hidden_size"), Int("num_layers"), Bidirectional: f.Metadata["bidirectional"] == "true",
            Cell: CellKindNames.ParseCell(f.Metadata["cell"]), ProjSize: Int("proj_size"));
    }

    private static (SafetensorsFile File, RnnConfig Config) Load(string fixture)
    {
        var f = PyTorchGoldenTests.Load(fixture);
        return (f, ConfigOf(f));
    }

    private static Dictionary<string, Tensor> Parameters(SafetensorsFile f, RnnConfig config) =>
        new ParameterLayout(config).Parameters.ToDictionary(p => p.Name, p => f.Get(p.Name, p.Shape));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_matches_pytorch(string backend, string fixture)
    {
        var (f, config) = Load(fixture);
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.FromParameters(config, acc, Parameters(f, config));
        var result = model.Forward(f.Tensors["x"], f.Tensors["h0"], PyTorchGoldenTests.LengthsOf(f), config.HasCellState ? f.Tensors["c0"] : null);
        Numerics.AssertClose(f.Tensors["output"].Data, result.Output.Data, Rtol, Atol, "output");
        Numerics.AssertClose(f.Tensors["h_n"].Data, result.FinalState.Data, Rtol, Atol, "h_n");
        Assert.Equal(f.Tensors["h_n"].Shape, result.FinalState.Shape);
        if (config.HasCellState)
        {
            Assert.NotNull(result.FinalCell);
            Numerics.AssertClose(f.Tensors["c_n"].Data, result.FinalCell!.Data, Rtol, Atol, "c_n");
        }
        else Assert.Null(result.FinalCell);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_match_pytorch(string backend, string fixture)
    {
        var (f, config) = Load(fixture);
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.FromParameters(config, acc, Parameters(f, config));
        bool lstm = config.HasCellState;
        var pass = model.Prepare(f.Tensors["x"], f.Tensors["h0"], PyTorchGoldenTests.LengthsOf(f), lstm ? f.Tensors["c0"] : null);
        pass.Forward();
        // dL/d(output) = R: packed per direction into the top layer's gradient from above.
        var layout = pass.Layout;
        int s = config.StateSize, top = config.NumLayers - 1, width = config.LayerOutputSize;
        var r = layout.Pack(f.Tensors["R"].Data, width);
        for (int d = 0; d < config.Directions; d++)
        {
            var part = new float[layout.Rows * s];
            for (int row = 0; row < layout.Rows; row++) Array.Copy(r, row * width + d * s, part, row * s, s);
            acc.CopyIn(part, pass.DStates(top, d));
        }
        pass.Backward(inputGradient: true, dropout: false, f.Tensors["Rh"], lstm ? f.Tensors["Rc"] : null);

        var grads = model.GradientsByName();
        foreach (var p in model.Layout.Parameters)
            Numerics.AssertClose(f.Tensors["grad." + p.Name].Data, grads[p.Name].Data, Rtol, Atol, "d" + p.Name);
        Numerics.AssertClose(f.Tensors["grad.x"].Data, pass.InputGradient().Data, Rtol, Atol, "dx");
        Numerics.AssertClose(f.Tensors["grad.h0"].Data, pass.InitialStateGradient().Data, Rtol, Atol, "dh0");
        if (lstm) Numerics.AssertClose(f.Tensors["grad.c0"].Data, pass.InitialCellGradient().Data, Rtol, Atol, "dc0");
    }
}
