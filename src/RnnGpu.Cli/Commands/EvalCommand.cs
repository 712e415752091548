using System.CommandLine;
using RnnGpu.Accelerators;
using RnnGpu.IO;
using RnnGpu.Text;

namespace RnnGpu.Cli.Commands;

/// <summary>`rnngpu eval`: a character model's mean cross-entropy on a text (<see cref="CharLoss"/>), to compare checkpoints and weights.</summary>
internal static class EvalCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model") { Description = "A character model (trained by `rnngpu train`)", Required = true, HelpName = "M.safetensors" };
        var text = new Option<string?>("--text") { Description = "The text to score (default: the built-in corpus the main job trains on)", HelpName = "FILE" };
        var window = new Option<int>("--window") { Description = "Characters per window, each scored from a zero state", DefaultValueFactory = _ => 100, HelpName = "N" }.AtLeast(1);
        var weights = CommonOptions.Weights();
        var backend = new BackendOptions();
        var command = new Command("eval", "Score a character model on a text: mean cross-entropy per character (nats and bits)") { model, text, window, weights };
        backend.AddTo(command);
        command.SetAction(parseResult =>
        {
            string path = parseResult.GetRequiredValue(model);
            string? textPath = parseResult.GetValue(text);
            string corpus = textPath is null ? TextCorpus.LoadDefault() : TextCorpus.LoadFile(textPath);
            using var accelerator = context.OpenBackend(backend.Read(parseResult));
            using var rnn = Checkpoint.Load(path, accelerator, CommonOptions.WeightsValue(parseResult, weights));
            double loss = CharLoss.Mean(rnn, corpus, parseResult.GetValue(window));
            context.Out.WriteLine($"{path} ({rnn.Weights.ToName()} weights) on {textPath ?? "the built-in corpus"}: loss {loss:F4} ({loss / Math.Log(2):F4} bits per character)");
            return 0;
        });
        return command;
    }
}
