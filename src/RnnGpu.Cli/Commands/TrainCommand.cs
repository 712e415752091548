using System.CommandLine;
using System.CommandLine.Parsing;
using RnnGpu.Cli.Training;

namespace RnnGpu.Cli.Commands;

/// <summary>
/// `rnngpu train`: a character language model on the built-in corpus (no arguments) or on --text FILE;
/// or, with --inputs X.npy --targets Y.npy, a sequence model on numeric arrays.
/// </summary>
internal static class TrainCommand
{
    public static Command Create(CliContext context)
    {
        var text = new Option<string?>("--text") { Description = "Train a character model on this UTF-8 text file instead of the built-in corpus", HelpName = "FILE" };
        var inputs = new Option<string?>("--inputs") { Description = "Numeric training: inputs [batch, time, input] (.npy, float32 or float64); start steps [batch, input] for --task one-to-many", HelpName = "X.npy" };
        var targets = new Option<string?>("--targets") { Description = "Numeric training: targets [batch, time, output] float for mse/bce, or [batch, time] class ids for ce (.npy); [batch, output] or [batch] for --task many-to-one", HelpName = "Y.npy" };
        var task = new Option<string?>("--task")
        {
            Description = "Numeric training: many-to-many (an output per step; default), many-to-one (one output per sequence from its final state: targets [batch, output] or [batch] ids), " +
                "one-to-many (a generator: --inputs are start steps [batch, input], then it is fed the targets shifted right: teacher forcing), encoder-decoder (--inputs [batch, time, input] encoded, targets [batch, time', output] decoded with teacher forcing)",
            HelpName = "many-to-many|many-to-one|one-to-many|encoder-decoder",
        };
        task.OneOf(SequenceTasks.Names);
        var lengths = new Option<string?>("--lengths") { Description = "Numeric training: the length of each sequence [batch] (.npy, integers); steps past it are padding, never computed (one-to-many: lengths of the targets)", HelpName = "L.npy" };
        var targetLengths = new Option<string?>("--target-lengths") { Description = "Encoder-decoder: the length of each target sequence [batch] (.npy, integers)", HelpName = "L.npy" };
        var decoderInputs = new Option<string?>("--decoder-inputs") { Description = "Encoder-decoder: the decoder's inputs [batch, time', features] (default: the targets shifted right by one step after a zero step, one-hot for class ids)", HelpName = "D.npy" };
        var bidirectional = new Option<bool>("--bidirectional") { Description = "Numeric training: bidirectional layers (PyTorch's _reverse parameters; the head reads both directions). Encoder-decoder: the encoder, and the decoder gets 2 x --layers layers" };
        var dropout = new Option<float?>("--dropout") { Description = "Dropout probability on the output of every layer but the last, in training (default 0)", HelpName = "P" }.InRange(0f, 1f);
        var loss = new Option<string?>("--loss") { Description = "Numeric training loss: mse, ce (softmax cross-entropy over class ids) or bce (sigmoid) (default mse)", HelpName = "mse|ce|bce" };
        loss.OneOf("mse", "ce", "bce");

        var hidden = new Option<int?>("--hidden") { Description = "Hidden size (default 128 for text, 32 for numeric)", HelpName = "H" }.AtLeast(1);
        var layers = new Option<int?>("--layers") { Description = "Number of stacked layers (default 1)", HelpName = "L" }.AtLeast(1);
        var nonlinearity = CommonOptions.Nonlinearity("tanh");
        var cell = CommonOptions.Cell();
        var projSize = CommonOptions.ProjSize();
        var optimizer = new Option<string?>("--optimizer") { Description = "sgd or adam (default adam)", HelpName = "sgd|adam" };
        optimizer.OneOf("sgd", "adam");
        var lr = new Option<float?>("--lr") { Description = "Learning rate (default for text: 4e-3 adam, 0.5 sgd; for numeric: 1e-3 adam, 0.01 sgd)", HelpName = "RATE" }.Positive();
        var momentum = new Option<float?>("--momentum") { Description = "SGD momentum in [0, 1) (default 0)", HelpName = "M" }.InRange(0f, 1f);
        var weightDecay = new Option<float?>("--weight-decay") { Description = "L2 weight decay (default 0)", HelpName = "WD" }.NonNegative();
        var batchSize = new Option<int?>("--batch-size") { Description = "Sequences per step (default 32 for text; all sequences for numeric)", HelpName = "N" }.AtLeast(1);
        var bptt = new Option<int?>("--bptt") { Description = "Truncated BPTT: one update per chunk of this many steps, state carried (default: the whole sequence)", HelpName = "STEPS" }.AtLeast(1);
        var clip = new Option<float?>("--clip") { Description = "Clip the global gradient norm to this (default 5 for text; off for numeric)", HelpName = "NORM" }.Positive();
        var seed = new Option<int>("--seed") { Description = "Seed for the initial weights, batch order, dropout masks and samples", DefaultValueFactory = _ => 0 };
        var init = new Option<string?>("--init") { Description = "Start from this checkpoint: its architecture (and vocabulary) are kept", HelpName = "M.safetensors" };
        var save = new Option<string>("--save") { Description = "Where to write the trained checkpoint", DefaultValueFactory = _ => TrainSettings.DefaultSavePath, HelpName = "M.safetensors" };
        var epochs = new Option<int?>("--epochs") { Description = "Numeric training: passes over the sequences (default 10)", HelpName = "N" }.AtLeast(1);
        var steps = new Option<int?>("--steps") { Description = $"Text training: optimizer steps (default {TrainSettings.DefaultTextSteps}, about a minute on a 2-core CPU)", HelpName = "N" }.AtLeast(1);
        var seqLength = new Option<int?>("--seq-length") { Description = "Text training: characters per training window (default 64)", HelpName = "T" }.AtLeast(1);
        var sampleLength = new Option<int?>("--sample-length") { Description = "Text training: characters in the samples printed before and after training (default 200; 0 for none)", HelpName = "N" }.AtLeast(0);
        var temperature = new Option<float?>("--temperature") { Description = "Text training: sampling temperature of those samples (default 0.8)", HelpName = "T" }.Positive();
        var backend = new BackendOptions();

        var command = new Command("train", "Train a model: a character language model on the built-in corpus (no arguments) or --text FILE, or a sequence model on --inputs X.npy --targets Y.npy (--task many-to-many, many-to-one, one-to-many or encoder-decoder)")
        {
            text, inputs, targets, task, lengths, targetLengths, decoderInputs, loss, hidden, bidirectional, dropout, layers, nonlinearity, cell, projSize, optimizer, lr, momentum,
            weightDecay, batchSize, bptt, clip, seed, init, save, epochs, steps, seqLength, sampleLength, temperature,
        };
        backend.AddTo(command);

        Option[] textOnly = [steps, seqLength, sampleLength, temperature];
        Option[] numericOnly = [loss, epochs, task, lengths, targetLengths, decoderInputs, bidirectional];
        command.Validators.Add(result =>
        {
            bool hasText = result.IsGiven(text), hasInputs = result.IsGiven(inputs), hasTargets = result.IsGiven(targets);
            if (hasText && (hasInputs || hasTargets))
                result.AddError("--text trains a character model and cannot be combined with --inputs/--targets");
            else if (hasInputs != hasTargets)
                result.AddError(hasInputs ? "--inputs needs --targets Y.npy" : "--targets needs --inputs X.npy");
            bool numeric = hasInputs || hasTargets;
            foreach (var o in numeric ? textOnly : numericOnly)
                if (result.IsGiven(o))
                    result.AddError(numeric
                        ? $"{o.Name} applies to text training, not to --inputs/--targets"
                        : $"{o.Name} applies to numeric training with --inputs/--targets");
            string cellName = result.GetValue(cell) ?? "rnn";
            if (result.IsGiven(nonlinearity) && cellName != "rnn")
                result.AddError($"--nonlinearity applies to --cell rnn; the {cellName} cell has its own gates");
            if (result.IsGiven(projSize) && cellName != "lstm")
                result.AddError("--proj-size applies to --cell lstm");
            if (result.IsGiven(momentum) && result.GetValue(optimizer) is not "sgd")
                result.AddError("--momentum applies to --optimizer sgd (Adam has its own moments)");
            if (!numeric) return;
            string kind = result.GetValue(task) ?? "many-to-many";
            foreach (var o in new Option[] { targetLengths, decoderInputs })
                if (result.IsGiven(o) && kind != "encoder-decoder")
                    result.AddError($"{o.Name} applies to --task encoder-decoder");
            if (result.IsGiven(bptt) && kind is "many-to-one" or "encoder-decoder")
                result.AddError($"--bptt does not apply to --task {kind}: its loss needs whole sequences");
            if (result.IsGiven(bptt) && result.GetValue(bidirectional))
                result.AddError("--bptt cannot train --bidirectional layers: the reverse direction of each chunk needs the steps after it");
            if (result.GetValue(bidirectional) && kind == "one-to-many")
                result.AddError("--bidirectional does not apply to --task one-to-many: a generator runs one step at a time, forward");
        });

        command.SetAction(parseResult =>
        {
            var settings = new TrainSettings
            {
                TextPath = parseResult.GetValue(text),
                InputsPath = parseResult.GetValue(inputs),
                TargetsPath = parseResult.GetValue(targets),
                Loss = parseResult.GetValue(loss),
                Task = SequenceTasks.Parse(parseResult.GetValue(task)),
                LengthsPath = parseResult.GetValue(lengths),
                TargetLengthsPath = parseResult.GetValue(targetLengths),
                DecoderInputsPath = parseResult.GetValue(decoderInputs),
                Bidirectional = parseResult.GetValue(bidirectional),
                Dropout = parseResult.GetValue(dropout),
                Hidden = parseResult.GetValue(hidden),
                Layers = parseResult.GetValue(layers),
                Nonlinearity = parseResult.GetValue(nonlinearity),
                Cell = parseResult.GetValue(cell),
                ProjSize = parseResult.GetValue(projSize),
                Optimizer = parseResult.GetValue(optimizer) ?? "adam",
                LearningRate = parseResult.GetValue(lr),
                Momentum = parseResult.GetValue(momentum),
                WeightDecay = parseResult.GetValue(weightDecay) ?? 0f,
                BatchSize = parseResult.GetValue(batchSize),
                Bptt = parseResult.GetValue(bptt),
                Clip = parseResult.GetValue(clip),
                Seed = parseResult.GetValue(seed),
                InitPath = parseResult.GetValue(init),
                SavePath = parseResult.GetValue(save) ?? TrainSettings.DefaultSavePath,
                Epochs = parseResult.GetValue(epochs),
                Steps = parseResult.GetValue(steps),
                SequenceLength = parseResult.GetValue(seqLength),
                SampleLength = parseResult.GetValue(sampleLength),
                Temperature = parseResult.GetValue(temperature),
                Backend = backend.Read(parseResult),
            };
            return settings.InputsPath is null
                ? TextTrainingJob.Run(context, settings)
                : SequenceTrainingJob.Run(context, settings);
        });
        return command;
    }
}
