using RnnGpu.Accelerators;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Tasks;
using RnnGpu.Training;

namespace RnnGpu.Cli.Training;

/// <summary>
/// `rnngpu train --task encoder-decoder`: an encoder (no head; --layers, --bidirectional) whose final state
/// starts a decoder (unidirectional, one layer per encoder state group, with a head), trained with teacher
/// forcing on X [N, T, I] -> Y [N, T', O] (or [N, T'] class ids). Saves both in one checkpoint
/// (<see cref="Seq2SeqCheckpoint"/>), with the feedback generation uses: argmax for ce, sigmoid for bce,
/// the output itself for mse.
/// </summary>
internal static class EncoderDecoderTrainingJob
{
    public static int Run(CliContext ctx, TrainSettings s)
    {
        string savePath = ModelSetup.CheckSavePath(s.SavePath);
        string xPath = s.InputsPath!, yPath = s.TargetsPath!;
        var loss = LossNames.Parse(s.Loss ?? "mse");
        var data = NumericData.Load(s, loss);
        bool ce = loss == LossKind.CrossEntropy;

        using var accelerator = ctx.OpenBackend(s.Backend);
        using var model = CreateOrLoad(s, accelerator, data, FeedbackFor(loss));
        var (encoder, decoder) = (model.Encoder.Config, model.Decoder.Config);
        if (encoder.InputSize != data.InputSize)
            throw new ShapeException($"{xPath} has {data.InputSize} input features but the encoder of {s.InitPath} expects {encoder.InputSize}");
        if (ce ? data.OutputSize > decoder.OutputWidth : data.OutputSize != decoder.OutputWidth)
            throw new ShapeException(ce
                ? $"{yPath} holds class id {data.OutputSize - 1} but the decoder of {s.InitPath} has {decoder.OutputWidth} output classes"
                : $"{yPath} has {data.OutputSize} target features but the decoder of {s.InitPath} outputs {decoder.OutputWidth}");
        if (data.DecoderInputs is { } d && d.Shape[2] != decoder.InputSize)
            throw new ShapeException($"{s.DecoderInputsPath} has {d.Shape[2]} features per step but the decoder of {s.InitPath} takes {decoder.InputSize}");
        data.DeriveDecoderInputs(decoder.InputSize, yPath);
        ModelSetup.NoteDropout(ctx, encoder);

        int batch = EpochLoop.BatchSize(ctx, s, data.Count, xPath);
        int epochs = s.Epochs ?? SequenceTrainingJob.DefaultEpochs;
        using var encoderOptimizer = ModelSetup.CreateOptimizer(s, SequenceTrainingJob.DefaultAdamLearningRate, SequenceTrainingJob.DefaultSgdLearningRate);
        using var decoderOptimizer = ModelSetup.CreateOptimizer(s, SequenceTrainingJob.DefaultAdamLearningRate, SequenceTrainingJob.DefaultSgdLearningRate);
        var trainer = new Seq2SeqTrainer(model, encoderOptimizer, decoderOptimizer, loss, s.Clip, s.Seed);

        var o = ctx.Out;
        long parameters = model.Encoder.Layout.TotalLength + model.Decoder.Layout.TotalLength;
        o.WriteLine($"data: {data.Summary}");
        o.WriteLine($"model: encoder {ModelSetup.DescribeModel(encoder)}; decoder {decoder.InputSize} inputs, {ModelSetup.DescribeModel(decoder)}; " +
            $"feedback {model.FeedbackKind.ToName()} ({parameters:N0} parameters) on {accelerator.Kind.Name()} ({accelerator.DeviceName})"
            + (s.InitPath is null ? "" : $", from {s.InitPath}"));
        o.WriteLine($"training: {epochs} epochs of {(data.Count + batch - 1) / batch} step(s) of batch {batch}, {ModelSetup.DescribeOptimizer(encoderOptimizer)} for each model"
            + (s.Clip is { } c ? $", clip {c:G3} over both" : "") + ", teacher forcing");

        EpochLoop.Run(ctx, data.Count, batch, epochs, s.Seed, (order, start, n) =>
        {
            var part = data.Batch(order, start, n);
            return trainer.Step(part.Inputs, part.Targets, part.DecoderInputs, part.Lengths, part.TargetLengths).Loss;
        });
        Seq2SeqCheckpoint.Save(model, savePath);
        o.WriteLine($"saved {savePath} (encoder.* and decoder.*)");
        return 0;
    }

    public static FeedbackKind FeedbackFor(LossKind loss) => loss switch
    {
        LossKind.CrossEntropy => FeedbackKind.ArgmaxOneHot,
        LossKind.BinaryCrossEntropy => FeedbackKind.Sigmoid,
        _ => FeedbackKind.Identity,
    };

    private static Seq2SeqModel CreateOrLoad(TrainSettings s, RnnGpu.Accelerators.Accelerator accelerator, NumericData data, FeedbackKind feedback)
    {
        if (s.InitPath is null)
        {
            int layers = s.Layers ?? 1, hidden = s.Hidden ?? SequenceTrainingJob.DefaultHidden;
            int decoderInputs = data.DecoderInputs?.Shape[2] ?? data.OutputSize;
            var encoder = ModelSetup.NewConfig(s, data.InputSize, hidden, layers, 0, s.Bidirectional);
            var decoder = ModelSetup.NewConfig(s, decoderInputs, hidden, layers * encoder.Directions, data.OutputSize, bidirectional: false);
            return Seq2SeqModel.Create(encoder, decoder, accelerator, s.Seed, feedback);
        }
        var file = SafetensorsFile.Read(s.InitPath);
        if (!Seq2SeqCheckpoint.IsSeq2Seq(file))
            throw new UsageException($"{s.InitPath} is a single-model checkpoint: --task encoder-decoder continues one saved by `rnngpu train --task encoder-decoder`");
        var model = Seq2SeqCheckpoint.Load(file, accelerator);
        try
        {
            ModelSetup.CheckAgainst(s, model.Encoder.Config, model.Encoder.Config.NumLayers);
            model.FeedbackKind = feedback;   // generation follows the loss it is trained with
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
