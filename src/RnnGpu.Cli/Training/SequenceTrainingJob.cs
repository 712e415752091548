using RnnGpu.Accelerators;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Training;

namespace RnnGpu.Cli.Training;

/// <summary>
/// Numeric sequences with one model: many-to-many, many-to-one and one-to-many (see <see cref="NumericData"/>
/// for the arrays of each). One epoch is every sequence once, one Trainer.Step per batch from a zero state.
/// Encoder-decoder training is <see cref="EncoderDecoderTrainingJob"/>.
/// </summary>
internal static class SequenceTrainingJob
{
    public const int DefaultHidden = 32;
    public const int DefaultEpochs = 10;
    public const float DefaultAdamLearningRate = 1e-3f;
    public const float DefaultSgdLearningRate = 0.01f;

    public static int Run(CliContext ctx, TrainSettings s)
    {
        if (s.Task == SequenceTask.EncoderDecoder) return EncoderDecoderTrainingJob.Run(ctx, s);
        string savePath = ModelSetup.CheckSavePath(s.SavePath);
        string xPath = s.InputsPath!, yPath = s.TargetsPath!;
        var loss = LossNames.Parse(s.Loss ?? "mse");
        var data = NumericData.Load(s, loss);

        using var accelerator = ctx.OpenBackend(s.Backend);
        using var model = ModelSetup.CreateOrLoad(s, accelerator, () =>
            ModelSetup.NewConfig(s, data.InputSize, s.Hidden ?? DefaultHidden, s.Layers ?? 1, data.OutputSize, s.Bidirectional,
                s.Task == SequenceTask.ManyToOne ? HeadInput.FinalState : HeadInput.EveryStep));
        CheckAgainstModel(model.Config, s, xPath, yPath, data, loss);
        ModelSetup.NoteDropout(ctx, model.Config);

        int batch = EpochLoop.BatchSize(ctx, s, data.Count, xPath);
        int epochs = s.Epochs ?? DefaultEpochs;
        using var optimizer = ModelSetup.CreateOptimizer(s, DefaultAdamLearningRate, DefaultSgdLearningRate);
        var trainer = new Trainer(model, optimizer, loss, s.Clip, s.Bptt, s.Seed);

        var o = ctx.Out;
        o.WriteLine($"data: {data.Summary}");
        o.WriteLine($"model: {ModelSetup.DescribeModel(model.Config)} ({model.Layout.TotalLength:N0} parameters) on {accelerator.Kind.Name()} ({accelerator.DeviceName})"
            + (s.InitPath is null ? "" : $", from {s.InitPath}"));
        o.WriteLine($"training: {epochs} epochs of {(data.Count + batch - 1) / batch} step(s) of batch {batch}, {ModelSetup.DescribeOptimizer(optimizer)}"
            + (s.Clip is { } c ? $", clip {c:G3}" : "") + (s.Bptt is { } b ? $", truncated BPTT {b}" : ""));

        EpochLoop.Run(ctx, data.Count, batch, epochs, s.Seed, (order, start, n) =>
        {
            var part = data.Batch(order, start, n);
            return trainer.Step(part.Inputs, part.Targets, null, part.Lengths).Loss;
        });
        Checkpoint.Save(model, savePath);
        o.WriteLine($"saved {savePath}");
        return 0;
    }

    /// <summary>An --init checkpoint must fit the data and the task.</summary>
    private static void CheckAgainstModel(RnnConfig c, TrainSettings s, string xPath, string yPath, NumericData data, LossKind loss)
    {
        if (s.Task == SequenceTask.OneToMany && c.Bidirectional)
            throw new UsageException($"{s.InitPath} is bidirectional: a one-to-many model generates one step at a time, so it cannot be");
        if (s.InitPath is null) return;
        if (c.ManyToOne && s.Task != SequenceTask.ManyToOne)
            throw new UsageException($"{s.InitPath} is a many-to-one model (its head reads the final state): continue it with --task many-to-one");
        if (!c.ManyToOne && s.Task == SequenceTask.ManyToOne)
            throw new UsageException($"{s.InitPath} has an output at every step: it cannot be trained with --task many-to-one");
        if (c.InputSize != data.InputSize)
            throw new ShapeException($"{xPath} has {data.InputSize} input features but {s.InitPath} expects {c.InputSize}");
        if (loss == LossKind.CrossEntropy && s.Task != SequenceTask.OneToMany)
        {
            if (data.OutputSize > c.OutputWidth)
                throw new ShapeException($"{yPath} holds class id {data.OutputSize - 1} but {s.InitPath} has {c.OutputWidth} output classes (ids 0..{c.OutputWidth - 1})");
        }
        else if (c.OutputWidth != data.OutputSize)
            throw new ShapeException($"{yPath} has {data.OutputSize} target features but {s.InitPath} outputs {c.OutputWidth}" + (c.HasHead ? "" : " (it has no head: its outputs are its hidden states)"));
    }
}
