using RnnGpu.Accelerators.Cpu;
using RnnGpu.IO;
using Xunit;

namespace RnnGpu.Tests.Cli;

public sealed class TextCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private const string Rhyme = "Twinkle, twinkle, little star,\nHow I wonder what you are!\nUp above the world so high,\nLike a diamond in the sky.\n";

    private static string[] Small(string model) =>
        ["--steps", "30", "--hidden", "16", "--batch-size", "4", "--seq-length", "16", "--sample-length", "40", "--save", model, "--backend", "cpu"];

    private string TrainSmall(string text, string model)
    {
        string path = _cli.WriteText("rhyme.txt", text);
        var r = _cli.Ok(["train", "--text", path, .. Small(model)]);
        Assert.Contains("sample before training", r.Out);
        Assert.Contains("sample after training", r.Out);
        Assert.Contains("step     30/30", r.Out);
        Assert.Contains("chars/s", r.Out);
        Assert.Contains($"saved {model}", r.Out);
        return r.Out;
    }

    [Fact]
    public void Train_text_saves_a_character_model_with_its_vocabulary()
    {
        string model = _cli.File("rhyme.safetensors");
        TrainSmall(Rhyme + Rhyme, model);
        using var acc = new CpuAccelerator();
        using var rnn = Checkpoint.Load(model, acc);
        string expected = new(Rhyme.Distinct().Order().ToArray());
        Assert.Equal(expected, rnn.Vocabulary);
        Assert.Equal(expected.Length, rnn.Config.InputSize);
        Assert.Equal(expected.Length, rnn.Config.OutputSize);
        Assert.Equal(16, rnn.Config.HiddenSize);
    }

    [Fact]
    public void Sample_continues_the_prompt_repeatably_with_a_seed()
    {
        string model = _cli.File("rhyme.safetensors");
        TrainSmall(Rhyme + Rhyme, model);
        var a = _cli.Ok("sample", "--model", model, "--prompt", "Twinkle", "--length", "50", "--seed", "3", "--backend", "cpu");
        var b = _cli.Ok("sample", "--model", model, "--prompt", "Twinkle", "--length", "50", "--seed", "3", "--temperature", "0.8");
        string text = a.Out[..^1]; // WriteLine's newline
        Assert.StartsWith("Twinkle", text);
        Assert.Equal("Twinkle".Length + 50, text.Length);
        Assert.Equal(a.Out, b.Out);
        Assert.All(text, c => Assert.Contains(c, Rhyme));
        var longer = _cli.Ok("sample", "--model", model, "--length", "10", "--seed", "1");
        Assert.Equal(10 + 1, longer.Out.Length);
    }

    [Fact]
    public void Sample_names_its_errors()
    {
        string model = _cli.File("rhyme.safetensors");
        TrainSmall(Rhyme + Rhyme, model);
        _cli.Fails(["sample", "--model", model, "--prompt", "Zebra"], "'Z'", "prompt");
        Assert.Equal(2, _cli.Fails(["sample", "--model", model, "--temperature", "0"], "--temperature").ExitCode);
        Assert.Equal(2, _cli.Fails(["sample", "--model", model, "--temperature", "-1"], "--temperature").ExitCode);
        Assert.Equal(2, _cli.Fails(["sample", "--model", model, "--length", "-5"], "--length").ExitCode);
        Assert.Equal(2, _cli.Fails(["sample"], "--model").ExitCode);
        _cli.Fails(["sample", "--model", _cli.File("missing.safetensors")], "missing.safetensors");

        var (x, y) = SequenceData.WriteRegression(_cli);
        string numeric = _cli.File("numeric.safetensors");
        _cli.Ok("train", "--inputs", x, "--targets", y, "--hidden", "4", "--epochs", "1", "--save", numeric, "--backend", "cpu");
        _cli.Fails(["sample", "--model", numeric], "numeric.safetensors", "no vocabulary");
    }

    [Fact]
    public void Train_text_refuses_missing_empty_and_too_short_texts()
    {
        string model = _cli.File("m.safetensors");
        _cli.Fails(["train", "--text", _cli.File("none.txt"), .. Small(model)], "none.txt", "no such file");
        _cli.Fails(["train", "--text", _cli.WriteText("empty.txt", ""), .. Small(model)], "empty.txt", "empty");
        _cli.Fails(["train", "--text", _cli.WriteText("short.txt", "too short"), .. Small(model)], "short.txt", "9 characters", "--seq-length");
        Assert.False(System.IO.File.Exists(model));
    }

    [Fact]
    public void Train_text_can_continue_from_a_character_model_but_not_learn_new_characters()
    {
        string first = _cli.File("first.safetensors"), second = _cli.File("second.safetensors");
        TrainSmall(Rhyme + Rhyme, first);
        string part = _cli.WriteText("part.txt", Rhyme[..60] + Rhyme[..60]);
        var r = _cli.Ok(["train", "--text", part, "--init", first, "--steps", "5", "--batch-size", "2", "--seq-length", "16", "--sample-length", "0", "--save", second]);
        Assert.Contains($"from {first}", r.Out);
        using var acc = new CpuAccelerator();
        using var rnn = Checkpoint.Load(second, acc);
        Assert.Equal(new string(Rhyme.Distinct().Order().ToArray()), rnn.Vocabulary);

        string other = _cli.WriteText("other.txt", "Zebras quietly jump over boxes of eggs. Zebras quietly jump.");
        _cli.Fails(["train", "--text", other, "--init", first, "--steps", "2", "--seq-length", "8", "--save", _cli.File("x.safetensors")], "other.txt", "'Z'", "vocabulary");

        var (x, y) = SequenceData.WriteRegression(_cli);
        string numeric = _cli.File("numeric.safetensors");
        _cli.Ok("train", "--inputs", x, "--targets", y, "--hidden", "4", "--epochs", "1", "--save", numeric, "--backend", "cpu");
        _cli.Fails(["train", "--text", part, "--init", numeric, "--steps", "2", "--seq-length", "8", "--save", _cli.File("x.safetensors")], "numeric.safetensors", "not a character model");
    }
}
