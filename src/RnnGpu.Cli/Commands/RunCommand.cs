using System.CommandLine;
using RnnGpu.Accelerators;
using RnnGpu.IO;
using RnnGpu.Model;
using RnnGpu.Tasks;

namespace RnnGpu.Cli.Commands;

/// <summary>
/// `rnngpu run`: a checkpoint over X.npy, writing the outputs and final states as .npy. A single model runs
/// forward (many-to-many, or many-to-one: one output per sequence), or with --generate N feeds its outputs
/// back for N steps (one-to-many). An encoder-decoder checkpoint encodes X, then decodes greedily for
/// --generate N steps, or teacher-forced over --decoder-inputs.
/// </summary>
internal static class RunCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model") { Description = "The checkpoint to run (a single model, or an encoder-decoder pair from `train --task encoder-decoder`)", Required = true, HelpName = "M.safetensors" };
        var inputs = new Option<string>("--inputs") { Description = "Inputs [batch, time, input] (.npy, float32 or float64); with --generate on a single model also [batch, input] start steps", Required = true, HelpName = "X.npy" };
        var output = new Option<string>("--output") { Description = "Where to write the outputs float32: [batch, time, output] (the head's raw values, or the last layer's hidden states without a head), [batch, output] for a many-to-one model, [batch, N, output] with --generate N", Required = true, HelpName = "Y.npy" };
        var stateOutput = new Option<string?>("--state-output") { Description = "Also write the final hidden state h of every layer and direction [layers x directions, batch, hidden or an LSTM's proj size] (the decoder's, for an encoder-decoder)", HelpName = "H.npy" };
        var cellStateOutput = new Option<string?>("--cell-state-output") { Description = "LSTM: also write the final cell state c of every layer and direction [layers x directions, batch, hidden]", HelpName = "C.npy" };
        var initialState = new Option<string?>("--initial-state") { Description = "Start from this h [layers x directions, batch, hidden or proj size] instead of zeros (single models)", HelpName = "H0.npy" };
        var initialCellState = new Option<string?>("--initial-cell-state") { Description = "LSTM: start from this c [layers x directions, batch, hidden] instead of zeros (single models)", HelpName = "C0.npy" };
        var lengths = new Option<string?>("--lengths") { Description = "The length of each input sequence [batch] (.npy, integers in [1, time]); outputs past it are zeros, and the final state is the state at its last step", HelpName = "L.npy" };
        var generate = new Option<int?>("--generate") { Description = "Generate N steps, each output fed back as the next input: after the inputs (a single model), or from a zero start step after encoding them (an encoder-decoder)", HelpName = "N" }.AtLeast(1);
        var feedback = new Option<string?>("--feedback") { Description = "How --generate feeds an output back: identity (the output itself), argmax (one-hot of the largest; classes) or sigmoid (default: identity; an encoder-decoder's is saved with it)", HelpName = "identity|argmax|sigmoid" };
        feedback.OneOf("identity", "argmax", "sigmoid");
        var decoderInputs = new Option<string?>("--decoder-inputs") { Description = "Encoder-decoder: run the decoder teacher-forced over these inputs [batch, time', features] instead of generating", HelpName = "D.npy" };
        var weights = CommonOptions.Weights();
        var backend = new BackendOptions();
        var command = new Command("run", "Run a trained model over input sequences: forward, generating (--generate), or encoding and decoding (encoder-decoder checkpoints)")
        {
            model, inputs, output, stateOutput, cellStateOutput, initialState, initialCellState, lengths, generate, feedback, decoderInputs, weights,
        };
        backend.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.IsGiven(generate) && result.IsGiven(decoderInputs))
                result.AddError("--generate decodes from the model's own outputs and --decoder-inputs from given ones: give one of them");
            if (result.IsGiven(feedback) && !result.IsGiven(generate))
                result.AddError("--feedback applies to --generate N");
        });
        command.SetAction(parseResult =>
        {
            var args = new RunArguments(
                parseResult.GetRequiredValue(model), parseResult.GetRequiredValue(inputs), parseResult.GetRequiredValue(output),
                parseResult.GetValue(stateOutput), parseResult.GetValue(cellStateOutput), parseResult.GetValue(initialState),
                parseResult.GetValue(initialCellState), parseResult.GetValue(lengths), parseResult.GetValue(generate), parseResult.GetValue(feedback),
                parseResult.GetValue(decoderInputs), CommonOptions.WeightsValue(parseResult, weights));
            var file = SafetensorsFile.Read(args.ModelPath);
            using var accelerator = context.OpenBackend(backend.Read(parseResult));
            var (y, h, c) = Seq2SeqCheckpoint.IsSeq2Seq(file) ? RunEncoderDecoder(accelerator, file, args) : RunSingle(accelerator, file, args);
            if (args.CellStatePath is not null && c is null)
                throw new UsageException($"--cell-state-output applies to an LSTM; {args.ModelPath} has no cell state");
            Write(context, y, args.OutputPath);
            if (args.StatePath is not null) Write(context, h, args.StatePath);
            if (args.CellStatePath is not null) Write(context, c!, args.CellStatePath);
            return 0;
        });
        return command;
    }

    private static void Write(CliContext context, Tensor t, string path)
    {
        NpyArray.FromTensor(t).Write(path);
        context.Out.WriteLine($"wrote {path} {t.ShapeText}");
    }

    private sealed record RunArguments(string ModelPath, string InputsPath, string OutputPath, string? StatePath, string? CellStatePath,
        string? InitialStatePath, string? InitialCellStatePath, string? LengthsPath, int? Generate, string? Feedback, string? DecoderInputsPath,
        QuantizedWeights? Weights);

    private static (Tensor Output, Tensor State, Tensor? Cell) RunSingle(Accelerators.Accelerator accelerator, SafetensorsFile file, RunArguments a)
    {
        if (a.DecoderInputsPath is not null)
            throw new UsageException($"--decoder-inputs applies to an encoder-decoder checkpoint; {a.ModelPath} is a single model");
        var x = a.Generate is null ? NpyInputs.ReadSequences(a.InputsPath, "the inputs") : NpyInputs.ReadSequencesOrSteps(a.InputsPath, "the inputs");
        var h0 = a.InitialStatePath is null ? null : NpyInputs.ReadState(a.InitialStatePath);
        using var rnn = Checkpoint.Load(file, accelerator, a.Weights);
        var config = rnn.Config;
        if (x.Shape[2] != config.InputSize)
            throw new ShapeException($"{a.InputsPath} has {x.Shape[2]} input features per step but {a.ModelPath} expects {config.InputSize}");
        int[] stateShape = rnn.StateShape(x.Shape[0]);
        if (h0 is not null && !h0.Shape.AsSpan().SequenceEqual(stateShape))
            throw new ShapeException($"{a.InitialStatePath} has shape {h0.ShapeText}, expected {NpyInputs.ShapeText(stateShape)} (layers x directions, batch, {(config.ProjSize > 0 ? "proj size" : "hidden")})");
        if (a.InitialCellStatePath is not null && !config.HasCellState)
            throw new UsageException($"--initial-cell-state applies to an LSTM; {a.ModelPath} is a {config.Cell.ToName()}, which has no cell state");
        var c0 = a.InitialCellStatePath is null ? null : NpyInputs.ReadState(a.InitialCellStatePath);
        int[] cellShape = rnn.CellStateShape(x.Shape[0]);
        if (c0 is not null && !c0.Shape.AsSpan().SequenceEqual(cellShape))
            throw new ShapeException($"{a.InitialCellStatePath} has shape {c0.ShapeText}, expected {NpyInputs.ShapeText(cellShape)} (layers x directions, batch, hidden)");
        var lengths = a.LengthsPath is null ? null : NpyInputs.ReadLengths(a.LengthsPath, x.Shape[0], x.Shape[1], a.InputsPath);

        if (a.Generate is not { } steps)
        {
            var result = rnn.Forward(x, h0, lengths, c0);
            return (result.Output, result.FinalState, result.FinalCell);
        }
        if (config.Bidirectional)
            throw new ShapeException($"{a.ModelPath} is bidirectional: it cannot generate one step at a time (its reverse direction needs the steps that come later)");
        var kind = Tasks.Feedback.Parse(a.Feedback ?? "identity");
        if (kind == FeedbackKind.Identity && config.OutputWidth != config.InputSize)
            throw new UsageException(
                $"{a.ModelPath} outputs {config.OutputWidth} values per step but takes {config.InputSize} inputs, so its outputs cannot be fed back as they are: " +
                "--feedback argmax feeds back the one-hot code of the largest output");
        if (kind != FeedbackKind.Identity && config.OutputWidth != config.InputSize)
            throw new ShapeException($"--feedback {a.Feedback} makes inputs as wide as the {config.OutputWidth} outputs, but {a.ModelPath} takes {config.InputSize}");
        var generated = new Generator(rnn).Generate(x, steps, h0, Tasks.Feedback.For(kind), lengths, c0);
        return (generated.Output, generated.FinalState, generated.FinalCell);
    }

    private static (Tensor Output, Tensor State, Tensor? Cell) RunEncoderDecoder(Accelerators.Accelerator accelerator, SafetensorsFile file, RunArguments a)
    {
        if (a.InitialStatePath is not null || a.InitialCellStatePath is not null)
            throw new UsageException($"--initial-state and --initial-cell-state apply to single models; {a.ModelPath} is an encoder-decoder, whose decoder starts from the encoder's final state");
        if (a.Generate is null && a.DecoderInputsPath is null)
            throw new UsageException($"{a.ModelPath} is an encoder-decoder: give --generate N to decode N steps from its own outputs, or --decoder-inputs D.npy to decode teacher-forced");
        var x = NpyInputs.ReadSequences(a.InputsPath, "the inputs");
        var d = a.DecoderInputsPath is null ? null : NpyInputs.ReadSequences(a.DecoderInputsPath, "the decoder inputs");
        using var s2s = Seq2SeqCheckpoint.Load(file, accelerator, a.Weights);
        var (encoder, decoder) = (s2s.Encoder.Config, s2s.Decoder.Config);
        if (x.Shape[2] != encoder.InputSize)
            throw new ShapeException($"{a.InputsPath} has {x.Shape[2]} input features per step but the encoder of {a.ModelPath} expects {encoder.InputSize}");
        if (d is not null && d.Shape[2] != decoder.InputSize)
            throw new ShapeException($"{a.DecoderInputsPath} has {d.Shape[2]} features per step but the decoder of {a.ModelPath} takes {decoder.InputSize}");
        if (d is not null && d.Shape[0] != x.Shape[0])
            throw new ShapeException($"{a.DecoderInputsPath} holds {d.Shape[0]} sequences but {a.InputsPath} holds {x.Shape[0]}: one decoder sequence per input sequence");
        var lengths = a.LengthsPath is null ? null : NpyInputs.ReadLengths(a.LengthsPath, x.Shape[0], x.Shape[1], a.InputsPath);
        if (d is not null)
        {
            var result = s2s.Forward(x, d, lengths);
            return (result.Output, result.FinalState, result.FinalCell);
        }
        var kind = a.Feedback is null ? s2s.FeedbackKind : Tasks.Feedback.Parse(a.Feedback);
        if (decoder.OutputWidth != decoder.InputSize)
            throw new ShapeException($"the decoder of {a.ModelPath} outputs {decoder.OutputWidth} values per step but takes {decoder.InputSize} inputs: its outputs cannot be fed back; decode with --decoder-inputs");
        var generated = s2s.Generate(x, a.Generate!.Value, lengths, feedback: Tasks.Feedback.For(kind));
        return (generated.Output, generated.FinalState, generated.FinalCell);
    }
}
