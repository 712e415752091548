using RnnGpu.Accelerators.Cpu;
using RnnGpu.IO;
using RnnGpu.Tests.Support;
using Xunit;

namespace RnnGpu.Tests.Cli;

public sealed class RunCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("mse", "1")]
    [InlineData("mse", "2")]
    [InlineData("ce", "2")]
    public void Run_writes_what_the_saved_model_computes(string loss, string layers)
    {
        var xData = SequenceData.Inputs();
        string x = _cli.WriteNpy("x.npy", NpyArray.FromFloat32(xData, 6, 5, 3));
        string y = loss == "ce"
            ? _cli.WriteNpy("y.npy", NpyArray.FromInt64(SequenceData.ClassIds(xData), 6, 5))
            : _cli.WriteNpy("y.npy", NpyArray.FromFloat32(SequenceData.RegressionTargets(xData), 6, 5, 2));
        string model = _cli.File("m.safetensors"), outY = _cli.File("out.npy"), outH = _cli.File("h.npy");
        _cli.Ok("train", "--inputs", x, "--targets", y, "--loss", loss, "--layers", layers, "--hidden", "6", "--epochs", "5", "--save", model, "--backend", "cpu");

        // New inputs of another batch and length than the training data.
        var rng = new Random(9);
        var x2 = new Tensor(Numerics.Random(rng, 2 * 7 * 3), 2, 7, 3);
        string x2Path = _cli.WriteNpy("x2.npy", NpyArray.FromTensor(x2));
        var r = _cli.Ok("run", "--model", model, "--inputs", x2Path, "--output", outY, "--state-output", outH, "--backend", "cpu");
        Assert.Contains(outY, r.Out);

        using var acc = new CpuAccelerator();
        using var rnn = Checkpoint.Load(model, acc);
        var expected = rnn.Forward(x2);
        var yArray = NpyArray.Read(outY);
        var hArray = NpyArray.Read(outH);
        Assert.Equal(NpyDType.Float32, yArray.DType);
        Assert.Equal(expected.Output.Shape, yArray.Shape);
        Assert.Equal(expected.Output.Data, yArray.ToFloat32());
        Assert.Equal([int.Parse(layers), 2, 6], hArray.Shape);
        Assert.Equal(expected.FinalState.Data, hArray.ToFloat32());
    }

    [Fact]
    public void A_model_without_head_outputs_its_hidden_states_and_an_initial_state_is_used()
    {
        // `train` always builds a head; a headless checkpoint comes from the library (or from PyTorch's nn.RNN alone).
        using var acc = new CpuAccelerator();
        using (var headless = RnnGpu.Model.RnnModel.Create(new RnnGpu.Model.RnnConfig(3, 4, 2), acc, seed: 3))
            Checkpoint.Save(headless, _cli.File("headless.safetensors"));
        var x = new Tensor(Numerics.Random(new Random(2), 3 * 4 * 3), 3, 4, 3);
        var h0 = new Tensor(Numerics.Random(new Random(5), 2 * 3 * 4, 0.5f), 2, 3, 4);
        string xPath = _cli.WriteNpy("x.npy", NpyArray.FromTensor(x));
        string h0Path = _cli.WriteNpy("h0.npy", NpyArray.FromTensor(h0));
        _cli.Ok("run", "--model", _cli.File("headless.safetensors"), "--inputs", xPath, "--initial-state", h0Path, "--output", _cli.File("y.npy"));

        using var rnn = Checkpoint.Load(_cli.File("headless.safetensors"), acc);
        var expected = rnn.Forward(x, h0);
        var y = NpyArray.Read(_cli.File("y.npy"));
        Assert.Equal([3, 4, 4], y.Shape);
        Assert.Equal(expected.Output.Data, y.ToFloat32());
    }

    [Fact]
    public void Run_names_what_does_not_fit()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        string model = _cli.File("m.safetensors");
        _cli.Ok("train", "--inputs", x, "--targets", y, "--hidden", "4", "--epochs", "1", "--save", model, "--backend", "cpu");
        string x5 = _cli.WriteNpy("x5.npy", NpyArray.FromFloat32(new float[2 * 3 * 5], 2, 3, 5));
        _cli.Fails(["run", "--model", model, "--inputs", x5, "--output", _cli.File("o.npy")], "x5.npy", "5 input features", "expects 3");
        _cli.Fails(["run", "--model", _cli.File("none.safetensors"), "--inputs", x, "--output", _cli.File("o.npy")], "none.safetensors");
        _cli.Fails(["run", "--model", x, "--inputs", x, "--output", _cli.File("o.npy")], "x.npy");
        _cli.Fails(["run", "--model", model, "--output", _cli.File("o.npy")], "--inputs");
        string badH = _cli.WriteNpy("h.npy", NpyArray.FromFloat32(new float[4], 1, 1, 4));
        _cli.Fails(["run", "--model", model, "--inputs", x, "--initial-state", badH, "--output", _cli.File("o.npy")], "h.npy", "[1, 6, 4]");
        _cli.Fails(["run", "--model", model, "--inputs", x, "--output", Path.Combine(_cli.Dir, "no-dir", "o.npy")], "no-dir");
    }
}
