using RnnGpu.Accelerators.Cpu;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Tasks;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Cli;

/// <summary>The CLI's cells: train --cell and --proj-size, run with h0, c0 and both final states, bench --cell; the misuses refused by name.</summary>
public sealed class CellCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("lstm", "3")]
    [InlineData("lstm", null)]
    [InlineData("gru", null)]
    public void Train_then_run_writes_what_the_saved_cell_computes(string cell, string? proj)
    {
        var xData = SequenceData.Inputs();
        string x = _cli.WriteNpy("x.npy", NpyArray.FromFloat32(xData, 6, 5, 3));
        string y = _cli.WriteNpy("y.npy", NpyArray.FromFloat32(SequenceData.RegressionTargets(xData), 6, 5, 2));
        string model = _cli.File("m.safetensors");
        string[] projection = proj is null ? [] : ["--proj-size", proj];
        var trained = _cli.Ok(["train", "--inputs", x, "--targets", y, "--cell", cell, .. projection, "--layers", "2", "--hidden", "6", "--epochs", "3",
            "--save", model, "--backend", "cpu"]);
        Assert.Contains($"model: {cell}, hidden 6", trained.Out);

        using var acc = new CpuAccelerator();
        using var rnn = Checkpoint.Load(model, acc);
        Assert.Equal(CellKindNames.ParseCell(cell), rnn.Config.Cell);
        Assert.Equal(proj is null ? 0 : int.Parse(proj), rnn.Config.ProjSize);
        var rng = new Random(4);
        var x2 = new Tensor(Numerics.Random(rng, 2 * 7 * 3), 2, 7, 3);
        var h0 = new Tensor(Numerics.Random(rng, 2 * 2 * rnn.Config.StateSize, 0.5f), rnn.StateShape(2));
        var c0 = new Tensor(Numerics.Random(rng, 2 * 2 * 6, 0.5f), rnn.CellStateShape(2));
        bool lstm = cell == "lstm";
        string[] cellState = lstm ? ["--initial-cell-state", _cli.WriteNpy("c0.npy", NpyArray.FromTensor(c0)), "--cell-state-output", _cli.File("c.npy")] : [];
        _cli.Ok(["run", "--model", model, "--inputs", _cli.WriteNpy("x2.npy", NpyArray.FromTensor(x2)), "--initial-state",
            _cli.WriteNpy("h0.npy", NpyArray.FromTensor(h0)), .. cellState, "--output", _cli.File("out.npy"), "--state-output", _cli.File("h.npy"), "--backend", "cpu"]);

        var expected = rnn.Forward(x2, h0, initialCell: lstm ? c0 : null);
        Assert.Equal(expected.Output.Data, NpyArray.Read(_cli.File("out.npy")).ToFloat32());
        var h = NpyArray.Read(_cli.File("h.npy"));
        Assert.Equal(rnn.StateShape(2), h.Shape);
        Assert.Equal(expected.FinalState.Data, h.ToFloat32());
        if (lstm)
        {
            var c = NpyArray.Read(_cli.File("c.npy"));
            Assert.Equal(rnn.CellStateShape(2), c.Shape);
            Assert.Equal(expected.FinalCell!.Data, c.ToFloat32());
        }
    }

    [Fact]
    public void An_lstm_encoder_decoder_trains_and_decodes_with_its_cell_state()
    {
        var rng = new Random(8);
        var xs = new Tensor(Numerics.Random(rng, 4 * 5 * 3), 4, 5, 3);
        var ids = Enumerable.Range(0, 4 * 3).Select(_ => (long)rng.Next(4)).ToArray();
        string x = _cli.WriteNpy("x.npy", NpyArray.FromTensor(xs)), y = _cli.WriteNpy("y.npy", NpyArray.FromInt64(ids, 4, 3));
        string model = _cli.File("pair.safetensors");
        var r = _cli.Ok("train", "--task", "encoder-decoder", "--cell", "lstm", "--inputs", x, "--targets", y, "--loss", "ce", "--hidden", "5",
            "--epochs", "2", "--save", model, "--backend", "cpu");
        Assert.Contains("lstm", r.Out);
        _cli.Ok("run", "--model", model, "--inputs", x, "--generate", "4", "--output", _cli.File("out.npy"), "--state-output", _cli.File("h.npy"),
            "--cell-state-output", _cli.File("c.npy"), "--backend", "cpu");

        using var acc = new CpuAccelerator();
        using var pair = Seq2SeqCheckpoint.Load(model, acc);
        Assert.Equal(CellKind.Lstm, pair.Encoder.Config.Cell);
        Assert.Equal(CellKind.Lstm, pair.Decoder.Config.Cell);
        var generated = pair.Generate(xs, 4);
        Assert.Equal(generated.Output.Data, NpyArray.Read(_cli.File("out.npy")).ToFloat32());
        Assert.Equal(generated.FinalState.Data, NpyArray.Read(_cli.File("h.npy")).ToFloat32());
        Assert.Equal(generated.FinalCell!.Data, NpyArray.Read(_cli.File("c.npy")).ToFloat32());
    }

    [Fact]
    public void The_main_job_and_bench_take_a_cell()
    {
        var r = _cli.Ok("train", "--cell", "gru", "--steps", "3", "--hidden", "16", "--sample-length", "0", "--save", _cli.File("g.safetensors"), "--backend", "cpu");
        Assert.Contains("model: gru, hidden 16", r.Out);
        var bench = _cli.Ok("bench", "--cell", "lstm", "--proj-size", "4", "--batch", "2", "--seq", "3", "--input", "5", "--hidden", "8", "--iters", "1",
            "--warmup", "0", "--backend", "cpu");
        Assert.Contains("\"cell\":\"lstm\"", bench.Out);
        Assert.Contains("\"proj_size\":4", bench.Out);
    }

    [Fact]
    public void Misused_cell_options_are_refused_by_name()
    {
        string x = _cli.WriteNpy("x.npy", NpyArray.FromFloat32(SequenceData.Inputs(), 6, 5, 3));
        string y = _cli.WriteNpy("y.npy", NpyArray.FromFloat32(SequenceData.RegressionTargets(SequenceData.Inputs()), 6, 5, 2));
        _cli.Fails(["train", "--inputs", x, "--targets", y, "--cell", "gru", "--nonlinearity", "relu"], "--nonlinearity applies to --cell rnn");
        _cli.Fails(["train", "--inputs", x, "--targets", y, "--cell", "gru", "--proj-size", "2"], "--proj-size applies to --cell lstm");
        _cli.Fails(["train", "--inputs", x, "--targets", y, "--cell", "lstm", "--hidden", "4", "--proj-size", "4"], "proj size 4 must be smaller than the hidden size 4");
        _cli.Fails(["train", "--inputs", x, "--targets", y, "--cell", "tree"], "--cell");
        _cli.Fails(["bench", "--op", "step", "--cell", "lstm"], "--op step times the Elman cell's kernels");

        string rnn = _cli.File("rnn.safetensors");
        _cli.Ok("train", "--inputs", x, "--targets", y, "--hidden", "4", "--epochs", "1", "--save", rnn, "--backend", "cpu");
        _cli.Fails(["run", "--model", rnn, "--inputs", x, "--output", _cli.File("o.npy"), "--cell-state-output", _cli.File("c.npy"), "--backend", "cpu"],
            "--cell-state-output applies to an LSTM");
        _cli.Fails(["run", "--model", rnn, "--inputs", x, "--output", _cli.File("o.npy"), "--initial-cell-state", x, "--backend", "cpu"],
            "--initial-cell-state applies to an LSTM");
        _cli.Fails(["train", "--inputs", x, "--targets", y, "--init", rnn, "--cell", "lstm", "--backend", "cpu"], "--cell lstm contradicts");
        Assert.False(File.Exists(_cli.File("c.npy")));
    }
}
