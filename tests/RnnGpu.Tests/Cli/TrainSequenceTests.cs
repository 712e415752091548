using System.Globalization;
using System.Text.RegularExpressions;
using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Training;
using Xunit;

namespace RnnGpu.Tests.Cli;

public sealed class TrainSequenceTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    internal static double[] EpochLosses(string output) =>
        Regex.Matches(output, @"^epoch\s+\d+/\d+\s+loss (\S+)", RegexOptions.Multiline)
            .Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();

    [Fact]
    public void Mse_training_prints_a_falling_loss_per_epoch_and_saves_the_model()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        string model = _cli.File("m.safetensors");
        var r = _cli.Ok("train", "--inputs", x, "--targets", y, "--hidden", "8", "--epochs", "30", "--lr", "0.02", "--save", model, "--backend", "cpu");
        var losses = EpochLosses(r.Out);
        Assert.Equal(30, losses.Length);
        Assert.True(losses[^1] < losses[0] * 0.5, r.Out);
        Assert.Contains(model, r.Out);

        using var acc = new CpuAccelerator();
        using var loaded = Checkpoint.Load(model, acc);
        Assert.Equal(new RnnConfig(3, 8, 1, Activation.Tanh, 2), loaded.Config);
        Assert.Null(loaded.Vocabulary);
    }

    [Fact]
    public void With_the_whole_batch_one_epoch_is_exactly_one_optimizer_step()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        string model = _cli.File("m.safetensors");
        _cli.Ok("train", "--inputs", x, "--targets", y, "--hidden", "5", "--layers", "2", "--nonlinearity", "relu",
            "--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.5", "--epochs", "2", "--seed", "4", "--save", model, "--backend", "cpu");

        using var acc = new CpuAccelerator();
        using var expected = RnnModel.Create(new RnnConfig(3, 5, 2, Activation.Relu, 2), acc, seed: 4);
        using var sgd = new Sgd(0.1f, 0.5f);
        var trainer = new Trainer(expected, sgd, LossKind.Mse);
        var xs = NpyArray.Read(x).ToTensor();
        var ys = NpyArray.Read(y).ToTensor();
        trainer.Step(xs, ys);
        trainer.Step(xs, ys);

        using var actual = Checkpoint.Load(model, acc);
        foreach (var p in expected.Layout.Parameters)
            Assert.Equal(expected.GetParameter(p.Name).Data, actual.GetParameter(p.Name).Data);
    }

    [Fact]
    public void Mini_batches_shuffle_with_the_seed_and_repeat()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        string a = _cli.File("a.safetensors"), b = _cli.File("b.safetensors"), c = _cli.File("c.safetensors");
        string[] common = ["train", "--inputs", x, "--targets", y, "--hidden", "4", "--epochs", "3", "--batch-size", "4", "--backend", "cpu"];
        var ra = _cli.Ok([.. common, "--save", a, "--seed", "1"]);
        var rb = _cli.Ok([.. common, "--save", b, "--seed", "1"]);
        _cli.Ok([.. common, "--save", c, "--seed", "2"]);
        Assert.Contains("2 step(s) of batch 4", ra.Out);
        Assert.Equal(EpochLosses(ra.Out), EpochLosses(rb.Out));
        Assert.Equal(System.IO.File.ReadAllBytes(a), System.IO.File.ReadAllBytes(b));
        Assert.NotEqual(System.IO.File.ReadAllBytes(a), System.IO.File.ReadAllBytes(c));
    }

    [Fact]
    public void Cross_entropy_takes_integer_class_ids_and_sizes_the_head_from_the_largest()
    {
        var xData = SequenceData.Inputs();
        string x = _cli.WriteNpy("x.npy", NpyArray.FromFloat32(xData, 6, 5, 3));
        var ids = SequenceData.ClassIds(xData);
        ids[0] = 6; // largest class id 6: seven classes, some unused
        string y64 = _cli.WriteNpy("y64.npy", NpyArray.FromInt64(ids, 6, 5));
        string y32 = _cli.WriteNpy("y32.npy", NpyArray.FromInt32(ids.Select(v => (int)v).ToArray(), 6, 5));
        string yf = _cli.WriteNpy("yf.npy", NpyArray.FromFloat32(ids.Select(v => (float)v).ToArray(), 6, 5));
        string m64 = _cli.File("m64.safetensors"), m32 = _cli.File("m32.safetensors"), mf = _cli.File("mf.safetensors");
        var r = _cli.Ok("train", "--inputs", x, "--targets", y64, "--loss", "ce", "--hidden", "8", "--epochs", "20", "--lr", "0.05", "--save", m64, "--backend", "cpu");
        _cli.Ok("train", "--inputs", x, "--targets", y32, "--loss", "ce", "--hidden", "8", "--epochs", "20", "--lr", "0.05", "--save", m32, "--backend", "cpu");
        _cli.Ok("train", "--inputs", x, "--targets", yf, "--loss", "ce", "--hidden", "8", "--epochs", "20", "--lr", "0.05", "--save", mf, "--backend", "cpu");
        var losses = EpochLosses(r.Out);
        Assert.True(losses[^1] < losses[0], r.Out);
        Assert.Contains("7 classes", r.Out);
        using var acc = new CpuAccelerator();
        using var model = Checkpoint.Load(m64, acc);
        Assert.Equal(7, model.Config.OutputSize);
        // The three dtypes hold the same ids, so they train the same model.
        Assert.Equal(System.IO.File.ReadAllBytes(m64), System.IO.File.ReadAllBytes(m32));
        Assert.Equal(System.IO.File.ReadAllBytes(m64), System.IO.File.ReadAllBytes(mf));
    }

    [Fact]
    public void Binary_cross_entropy_and_float64_inputs_train()
    {
        var xData = SequenceData.Inputs();
        string x = _cli.WriteNpy("x.npy", NpyArray.FromFloat64(xData.Select(v => (double)v).ToArray(), 6, 5, 3));
        var yData = xData.Select(v => v > 0 ? 1f : 0f).ToArray();
        string y = _cli.WriteNpy("y.npy", NpyArray.FromFloat32(yData, 6, 5, 3));
        var r = _cli.Ok("train", "--inputs", x, "--targets", y, "--loss", "bce", "--hidden", "6", "--epochs", "15", "--lr", "0.05",
            "--clip", "1", "--bptt", "2", "--save", _cli.File("m.safetensors"), "--backend", "cpu");
        var losses = EpochLosses(r.Out);
        Assert.True(losses[^1] < losses[0], r.Out);
    }

    [Fact]
    public void Init_continues_from_a_checkpoint_and_keeps_its_architecture()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        string first = _cli.File("first.safetensors"), second = _cli.File("second.safetensors");
        var r1 = _cli.Ok("train", "--inputs", x, "--targets", y, "--hidden", "7", "--layers", "2", "--epochs", "40", "--lr", "0.02", "--save", first, "--backend", "cpu");
        var r2 = _cli.Ok("train", "--inputs", x, "--targets", y, "--init", first, "--hidden", "7", "--epochs", "5", "--lr", "0.02", "--save", second, "--backend", "cpu");
        double[] l1 = EpochLosses(r1.Out), l2 = EpochLosses(r2.Out);
        // The continued run starts near where the first one ended, far below a fresh start.
        Assert.True(l2[0] < l1[0] * 0.5, $"{r1.Out}\n{r2.Out}");
        Assert.True(l2[0] < l1[^1] * 1.5, $"{r1.Out}\n{r2.Out}");
        Assert.Contains($"from {first}", r2.Out);
        using var acc = new CpuAccelerator();
        using var model = Checkpoint.Load(second, acc);
        Assert.Equal(new RnnConfig(3, 7, 2, Activation.Tanh, 2), model.Config);
    }

    [Fact]
    public void Init_refuses_options_that_contradict_the_checkpoint()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        string m = _cli.File("m.safetensors");
        _cli.Ok("train", "--inputs", x, "--targets", y, "--hidden", "4", "--epochs", "1", "--save", m, "--backend", "cpu");
        string[] common = ["train", "--inputs", x, "--targets", y, "--init", m, "--epochs", "1", "--save", _cli.File("n.safetensors"), "--backend", "cpu"];
        _cli.Fails([.. common, "--hidden", "5"], "--hidden 5", "hidden size is 4");
        _cli.Fails([.. common, "--layers", "2"], "--layers 2");
        _cli.Fails([.. common, "--nonlinearity", "relu"], "--nonlinearity relu", "tanh");

        string x4 = _cli.WriteNpy("x4.npy", NpyArray.FromFloat32(new float[6 * 5 * 4], 6, 5, 4));
        _cli.Fails(["train", "--inputs", x4, "--targets", y, "--init", m, "--save", _cli.File("n.safetensors")], "4 input features", "expects 3");
        string y3 = _cli.WriteNpy("y3.npy", NpyArray.FromFloat32(new float[6 * 5 * 3], 6, 5, 3));
        _cli.Fails(["train", "--inputs", x, "--targets", y3, "--init", m, "--save", _cli.File("n.safetensors")], "3 target features", "outputs 2");
        _cli.Fails(["train", "--inputs", x, "--targets", y, "--init", _cli.File("missing.safetensors")], "missing.safetensors");
    }
}
