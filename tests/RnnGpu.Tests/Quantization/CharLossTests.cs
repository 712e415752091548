using RnnGpu.Accelerators.Cpu;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Tests.Cli;
using RnnGpu.Tests.Model;
using RnnGpu.Text;

namespace RnnGpu.Tests.Quantization;

/// <summary>`rnngpu eval` and <see cref="CharLoss"/>: the mean next-character cross-entropy, against the float64 reference model over the same windows.</summary>
public sealed class CharLossTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void The_loss_is_the_reference_cross_entropy_over_consecutive_windows()
    {
        const string text = "the cat sat on the mat; the rat ate the hat.\n";
        var vocabulary = CharVocabulary.FromText(text);
        int v = vocabulary.Size, window = 7;
        using var acc = new CpuAccelerator();
        using var model = RnnModel.Create(new RnnConfig(v, 10, 1, OutputSize: v, Cell: CellKind.Gru), acc, seed: 3);
        model.Vocabulary = vocabulary.Characters;
        int[] ids = vocabulary.Encode(text);
        int windows = (ids.Length - 1) / window;
        var reference = ReferenceRnn.FromModel(model);
        double total = 0;
        for (int w = 0; w < windows; w++)
        {
            var x = new double[window * v];
            for (int t = 0; t < window; t++) x[t * v + ids[w * window + t]] = 1;
            var (y, _) = reference.Forward(x, new double[10], 1, window);
            for (int t = 0; t < window; t++)
            {
                var row = y.AsSpan(t * v, v);
                double max = row.ToArray().Max(), sum = row.ToArray().Sum(z => Math.Exp(z - max));
                total += max + Math.Log(sum) - row[ids[w * window + t + 1]];
            }
        }
        double expected = total / (windows * window);
        Assert.Equal(expected, CharLoss.Mean(model, text, window, batch: 2), 1e-5);

        string path = _cli.File("c.safetensors"), textPath = _cli.File("t.txt");
        Checkpoint.Save(model, path);
        File.WriteAllText(textPath, text);
        var line = _cli.Ok("eval", "--model", path, "--text", textPath, "--window", "7", "--backend", "cpu").Out;
        Assert.Contains($"loss {expected:F4}", line);
        Assert.Contains("(int8 weights)", _cli.Ok("eval", "--model", path, "--text", textPath, "--window", "7", "--weights", "int8", "--backend", "cpu").Out);
        Assert.Throws<ShapeException>(() => CharLoss.Mean(model, "th", window));
    }
}
