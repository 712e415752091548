using RnnGpu.Accelerators;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Text;
using RnnGpu.Training;

namespace RnnGpu.Cli.Training;

/// <summary>
/// Character-level language model: next-character prediction with softmax cross-entropy on random
/// windows of the built-in corpus or a user's text; samples before and after; saves the checkpoint.
/// </summary>
internal static class TextTrainingJob
{
    public const int DefaultHidden = 128;
    public const float DefaultLearningRate = 4e-3f;
    public const int DefaultBatch = 32;
    public const int DefaultSequence = 64;
    public const float DefaultClip = 5f;
    public const int DefaultSampleLength = 200;
    public const float DefaultTemperature = 0.8f;

    public static int Run(CliContext ctx, TrainSettings s)
    {
        string savePath = ModelSetup.CheckSavePath(s.SavePath);
        string text = s.TextPath is null ? TextCorpus.LoadDefault() : TextCorpus.LoadFile(s.TextPath);
        string source = s.TextPath is null ? "the built-in corpus" : s.TextPath;
        int batch = s.BatchSize ?? DefaultBatch, seq = s.SequenceLength ?? DefaultSequence;
        int steps = s.Steps ?? TrainSettings.DefaultTextSteps;
        if (text.Length < seq + 1)
            throw new ShapeException(
                $"{source} has {text.Length} characters, fewer than one training window of {seq + 1} (--seq-length {seq} + 1); use a longer text or a smaller --seq-length");

        using var accelerator = ctx.OpenBackend(s.Backend);
        var vocabulary = s.InitPath is null ? CharVocabulary.FromText(text) : null;
        using var model = ModelSetup.CreateOrLoad(s, accelerator, () =>
            ModelSetup.NewConfig(s, vocabulary!.Size, s.Hidden ?? DefaultHidden, s.Layers ?? 1, vocabulary.Size, bidirectional: false));
        if (vocabulary is null)
        {
            if (model.Vocabulary is null)
                throw new ShapeException($"{s.InitPath} has no vocabulary: it is not a character model, so it cannot continue training on text");
            vocabulary = CharVocabulary.FromCharacters(model.Vocabulary);
        }
        else
            model.Vocabulary = vocabulary.Characters;
        var sampler = new CharSampler(model); // checks the model's input and output sizes against the vocabulary
        ModelSetup.NoteDropout(ctx, model.Config);

        int[] ids;
        try
        {
            ids = vocabulary.Encode(text);
        }
        catch (ShapeException e)
        {
            throw new ShapeException($"{source}: {e.Message} ({s.InitPath} knows {vocabulary.Size} characters and cannot learn new ones)");
        }
        var batcher = new CharBatcher(vocabulary, ids, batch, seq, s.Seed + 1);
        using var optimizer = ModelSetup.CreateOptimizer(s, DefaultLearningRate, 0.5f);
        float? clip = s.Clip ?? DefaultClip;
        var trainer = new Trainer(model, optimizer, LossKind.CrossEntropy, clip, s.Bptt, s.Seed);

        var o = ctx.Out;
        o.WriteLine($"text: {source}, {text.Length:N0} characters, {vocabulary.Size} distinct");
        o.WriteLine($"model: {ModelSetup.DescribeModel(model.Config)} ({model.Layout.TotalLength:N0} parameters) on {accelerator.Kind.Name()} ({accelerator.DeviceName})"
            + (s.InitPath is null ? "" : $", from {s.InitPath}"));
        o.WriteLine($"training: {steps:N0} steps of {batch} x {seq} characters, {ModelSetup.DescribeOptimizer(optimizer)}, clip {clip:G3}"
            + (s.Bptt is { } b ? $", truncated BPTT {b}" : ""));

        int sampleLength = s.SampleLength ?? DefaultSampleLength;
        float temperature = s.Temperature ?? DefaultTemperature;
        if (sampleLength > 0) PrintSample(ctx, "sample before training", sampler.Generate("", sampleLength, temperature, s.Seed));

        var progress = new TrainingProgress(ctx, steps, batcher.CharactersPerBatch);
        progress.Run(_ =>
        {
            var next = batcher.Next();
            return trainer.Step(next.Input, next.Target).Loss;
        });
        o.WriteLine($"trained {steps:N0} steps in {progress.Elapsed.TotalSeconds:F1} s ({progress.CharsPerSecond(steps):N0} chars/s); " +
            $"loss {progress.RecentLoss:F4} ({progress.RecentLoss / Math.Log(2):F2} bits per character)");

        Checkpoint.Save(model, savePath);
        if (sampleLength > 0) PrintSample(ctx, "sample after training", sampler.Generate("", sampleLength, temperature, s.Seed));
        o.WriteLine($"saved {savePath}");
        o.WriteLine($"try: rnngpu sample --model {Quote(s.SavePath)} --length 500");
        return 0;
    }

    private static void PrintSample(CliContext ctx, string title, string sample)
    {
        ctx.Out.WriteLine($"--- {title} ---");
        ctx.Out.WriteLine(sample.TrimEnd('\n'));
        ctx.Out.WriteLine("---");
        ctx.Out.Flush();
    }

    private static string Quote(string path) => path.Contains(' ') ? $"\"{path}\"" : path;
}
