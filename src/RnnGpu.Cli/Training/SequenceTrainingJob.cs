using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Training;

namespace RnnGpu.Cli.Training;

/// <summary>
/// Numeric sequences: X [batch, time, input] and Y [batch, time, output] (mse, bce) or class ids
/// [batch, time] (ce). One epoch is every sequence once, in order or shuffled with the seed when
/// a batch holds fewer than all of them, one Trainer.Step per batch from a zero state.
/// </summary>
internal static class SequenceTrainingJob
{
    public const int DefaultHidden = 32;
    public const int DefaultEpochs = 10;
    public const float DefaultAdamLearningRate = 1e-3f;
    public const float DefaultSgdLearningRate = 0.01f;

    public static int Run(CliContext ctx, TrainSettings s)
    {
        string savePath = ModelSetup.CheckSavePath(s.SavePath);
        string xPath = s.InputsPath!, yPath = s.TargetsPath!;
        var loss = LossNames.Parse(s.Loss ?? "mse");
        var x = NpyInputs.ReadSequences(xPath, "the inputs");
        int count = x.Shape[0], time = x.Shape[1], inputSize = x.Shape[2];

        Tensor y;
        int outputSize;
        if (loss == LossKind.CrossEntropy)
        {
            (y, long maxId) = NpyInputs.ReadClassIds(yPath);
            outputSize = checked((int)maxId + 1);
        }
        else
        {
            y = NpyInputs.ReadSequences(yPath, "the targets");
            outputSize = y.Shape[2];
            if (loss == LossKind.BinaryCrossEntropy && Array.FindIndex(y.Data, v => v < 0 || v > 1) is var bad and >= 0)
                throw new ShapeException($"{yPath}: binary cross-entropy targets must be in [0, 1]; flat index {bad} holds {y.Data[bad]}");
        }
        if (y.Shape[0] != count || y.Shape[1] != time)
            throw new ShapeException(
                $"{xPath} has shape {x.ShapeText} but {yPath} has {y.ShapeText}: the targets must have the same batch ({count}) and time ({time}) dimensions"
                + (loss == LossKind.CrossEntropy ? $", i.e. shape [{count}, {time}] of class ids" : ""));

        using var accelerator = ctx.OpenBackend(s.Backend, s.Device);
        using var model = ModelSetup.CreateOrLoad(s, accelerator, () =>
            new RnnConfig(inputSize, s.Hidden ?? DefaultHidden, s.Layers ?? 1, ModelSetup.Nonlinearity(s), outputSize));
        CheckAgainstModel(model.Config, s.InitPath, xPath, yPath, inputSize, outputSize, loss);

        int batch = s.BatchSize ?? count;
        if (batch > count)
        {
            ctx.Err.WriteLine($"note: --batch-size {batch} is more than the {count} sequences in {xPath}; using {count}");
            batch = count;
        }
        int epochs = s.Epochs ?? DefaultEpochs;
        using var optimizer = ModelSetup.CreateOptimizer(s, DefaultAdamLearningRate, DefaultSgdLearningRate);
        var trainer = new Trainer(model, optimizer, loss, s.Clip, s.Bptt);

        var o = ctx.Out;
        o.WriteLine($"data: {count} sequences of {time} steps, {inputSize} inputs -> " +
            (loss == LossKind.CrossEntropy ? $"{outputSize} classes" : $"{outputSize} outputs") + $", loss {LossName(loss)}");
        o.WriteLine($"model: {ModelSetup.DescribeModel(model.Config)} ({model.Layout.TotalLength:N0} parameters) on {accelerator.Kind.ToString().ToLowerInvariant()} ({accelerator.DeviceName})"
            + (s.InitPath is null ? "" : $", from {s.InitPath}"));
        o.WriteLine($"training: {epochs} epochs of {(count + batch - 1) / batch} step(s) of batch {batch}, {ModelSetup.DescribeOptimizer(optimizer)}"
            + (s.Clip is { } c ? $", clip {c:G3}" : "") + (s.Bptt is { } b ? $", truncated BPTT {b}" : ""));

        int xRow = time * inputSize, yRow = y.Length / count;
        var order = Enumerable.Range(0, count).ToArray();
        var random = new Random(s.Seed);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            if (batch < count) random.Shuffle(order);
            double sum = 0;
            for (int start = 0; start < count; start += batch)
            {
                int n = Math.Min(batch, count - start);
                var xb = Gather(x, order, start, n, xRow);
                var yb = Gather(y, order, start, n, yRow);
                sum += trainer.Step(xb, yb).Loss * n;
            }
            o.WriteLine($"epoch {epoch,4}/{epochs}  loss {sum / count:G6}");
        }
        o.WriteLine($"trained {epochs} epochs in {clock.Elapsed.TotalSeconds:F2} s");
        Checkpoint.Save(model, savePath);
        o.WriteLine($"saved {savePath}");
        return 0;
    }

    private static void CheckAgainstModel(RnnConfig c, string? initPath, string xPath, string yPath, int inputSize, int outputSize, LossKind loss)
    {
        if (initPath is null) return;
        if (c.InputSize != inputSize)
            throw new ShapeException($"{xPath} has {inputSize} input features but {initPath} expects {c.InputSize}");
        if (loss == LossKind.CrossEntropy)
        {
            if (outputSize > c.OutputWidth)
                throw new ShapeException($"{yPath} holds class id {outputSize - 1} but {initPath} has {c.OutputWidth} output classes (ids 0..{c.OutputWidth - 1})");
        }
        else if (c.OutputWidth != outputSize)
            throw new ShapeException($"{yPath} has {outputSize} target features but {initPath} outputs {c.OutputWidth}" + (c.HasHead ? "" : " (it has no head: its outputs are its hidden states)"));
    }

    /// <summary>Rows order[start .. start+n) of a batch-first tensor, as a new batch.</summary>
    private static Tensor Gather(Tensor source, int[] order, int start, int n, int rowLength)
    {
        var data = new float[n * rowLength];
        for (int i = 0; i < n; i++)
            Array.Copy(source.Data, (long)order[start + i] * rowLength, data, (long)i * rowLength, rowLength);
        var shape = (int[])source.Shape.Clone();
        shape[0] = n;
        return new Tensor(data, shape);
    }

    private static string LossName(LossKind loss) => loss switch
    {
        LossKind.Mse => "mse",
        LossKind.CrossEntropy => "cross-entropy",
        _ => "binary cross-entropy",
    };
}
