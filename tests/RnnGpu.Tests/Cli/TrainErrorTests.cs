using RnnGpu.IO;
using Xunit;

namespace RnnGpu.Tests.Cli;

/// <summary>Every bad argument or file gives a non-zero exit and an `error:` line naming the problem, never a stack trace.</summary>
public sealed class TrainErrorTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private string[] Train(string x, string y, params string[] more) =>
        ["train", "--inputs", x, "--targets", y, "--save", _cli.File("m.safetensors"), .. more];

    [Fact]
    public void Bad_option_values_are_usage_errors()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        Assert.Equal(2, _cli.Fails(Train(x, y, "--hidden", "0"), "--hidden", "at least 1").ExitCode);
        Assert.Equal(2, _cli.Fails(Train(x, y, "--lr", "-0.1"), "--lr", "positive").ExitCode);
        Assert.Equal(2, _cli.Fails(Train(x, y, "--lr", "abc"), "abc").ExitCode);
        Assert.Equal(2, _cli.Fails(Train(x, y, "--nonlinearity", "sigmoid"), "--nonlinearity", "sigmoid", "tanh, relu").ExitCode);
        Assert.Equal(2, _cli.Fails(Train(x, y, "--optimizer", "rmsprop"), "--optimizer", "rmsprop").ExitCode);
        Assert.Equal(2, _cli.Fails(Train(x, y, "--loss", "hinge"), "--loss", "hinge").ExitCode);
        Assert.Equal(2, _cli.Fails(Train(x, y, "--epochs", "0"), "--epochs").ExitCode);
        Assert.Equal(2, _cli.Fails(Train(x, y, "--batch-size", "0"), "--batch-size").ExitCode);
        Assert.Equal(2, _cli.Fails(Train(x, y, "--clip", "0"), "--clip").ExitCode);
        Assert.Equal(2, _cli.Fails(Train(x, y, "--bptt", "0"), "--bptt").ExitCode);
        Assert.Equal(2, _cli.Fails(Train(x, y, "--optimizer", "sgd", "--momentum", "1"), "--momentum").ExitCode);
        Assert.Equal(2, _cli.Fails(Train(x, y, "--momentum", "0.9"), "--momentum", "sgd").ExitCode);
        Assert.Equal(2, _cli.Fails(Train(x, y, "--backend", "tpu"), "--backend", "tpu").ExitCode);
        Assert.Equal(2, _cli.Fails(Train(x, y, "--bogus"), "--bogus").ExitCode);
    }

    [Fact]
    public void Options_of_the_other_mode_and_half_pairs_are_usage_errors()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        _cli.Fails(["train", "--inputs", x], "--targets");
        _cli.Fails(["train", "--targets", y], "--inputs");
        _cli.Fails(["train", "--text", x, "--inputs", x, "--targets", y], "--text");
        _cli.Fails(Train(x, y, "--steps", "5"), "--steps");
        _cli.Fails(["train", "--epochs", "3"], "--epochs");
        _cli.Fails(["train", "--loss", "mse"], "--loss");
    }

    [Fact]
    public void Missing_and_malformed_files_are_named()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        string missing = _cli.File("nope.npy");
        Assert.Equal(1, _cli.Fails(Train(missing, y), "nope.npy").ExitCode);
        _cli.Fails(Train(x, missing), "nope.npy");
        string text = _cli.WriteText("text.npy", "not numpy at all");
        _cli.Fails(Train(text, y), "text.npy");
        _cli.Fails(["train", "--inputs", x, "--targets", y, "--save", Path.Combine(_cli.Dir, "no-such-dir", "m.safetensors")], "no-such-dir", "does not exist");
    }

    [Fact]
    public void Shapes_and_dtypes_that_do_not_fit_are_named()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        string x2 = _cli.WriteNpy("x2.npy", NpyArray.FromFloat32(new float[6 * 5], 6, 5));
        _cli.Fails(Train(x2, y), "x2.npy", "3 dimensions");
        string xi = _cli.WriteNpy("xi.npy", NpyArray.FromInt32(new int[6 * 5 * 3], 6, 5, 3));
        _cli.Fails(Train(xi, y), "xi.npy", "float32 or float64", "int32");
        string yShort = _cli.WriteNpy("yshort.npy", NpyArray.FromFloat32(new float[6 * 4 * 2], 6, 4, 2));
        _cli.Fails(Train(x, yShort), "yshort.npy", "[6, 4, 2]", "time");
        string yBatch = _cli.WriteNpy("ybatch.npy", NpyArray.FromFloat32(new float[5 * 5 * 2], 5, 5, 2));
        _cli.Fails(Train(x, yBatch), "ybatch.npy", "batch");
        string yNaN = _cli.WriteNpy("ynan.npy", NpyArray.FromFloat32([float.NaN, .. new float[6 * 5 * 2 - 1]], 6, 5, 2));
        _cli.Fails(Train(x, yNaN), "ynan.npy", "non-finite");
        _cli.Fails(Train(x, y, "--loss", "bce"), "y.npy", "[0, 1]");
    }

    [Fact]
    public void Cross_entropy_targets_must_be_whole_non_negative_ids_of_the_right_shape()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        _cli.Fails(Train(x, y, "--loss", "ce"), "y.npy", "[batch, time]", "--loss mse");
        string frac = _cli.WriteNpy("frac.npy", NpyArray.FromFloat32([0.5f, .. new float[29]], 6, 5));
        _cli.Fails(Train(x, frac, "--loss", "ce"), "frac.npy", "0.5", "whole number");
        string neg = _cli.WriteNpy("neg.npy", NpyArray.FromInt64([0, 1, -2, .. new long[27]], 6, 5));
        _cli.Fails(Train(x, neg, "--loss", "ce"), "neg.npy", "-2");
        string wrong = _cli.WriteNpy("wrong.npy", NpyArray.FromInt64(new long[6 * 4], 6, 4));
        _cli.Fails(Train(x, wrong, "--loss", "ce"), "wrong.npy", "[6, 5]");
    }

    [Fact]
    public void An_unavailable_backend_is_an_error_with_its_message()
    {
        var (x, y) = SequenceData.WriteRegression(_cli);
        var r = _cli.Fails(["train", "--inputs", x, "--targets", y, "--save", _cli.File("m.safetensors"), "--backend", "cuda"], "cuda", "--backend cpu");
        Assert.Equal(1, r.ExitCode);
    }

    [Fact]
    public void No_command_and_help_behave()
    {
        Assert.Equal(2, _cli.Fails([], "command").ExitCode);
        var help = _cli.Ok("train", "--help");
        Assert.Contains("--inputs", help.Out);
        Assert.Contains("rnngpu train", help.Out);
    }
}
