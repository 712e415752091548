using System.CommandLine;
using RnnGpu.IO;

namespace RnnGpu.Cli.Commands;

/// <summary>`rnngpu run`: the forward pass of a checkpoint over X.npy, writing the outputs and final states as .npy.</summary>
internal static class RunCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model") { Description = "The checkpoint to run", Required = true, HelpName = "M.safetensors" };
        var inputs = new Option<string>("--inputs") { Description = "Inputs [batch, time, input] (.npy, float32 or float64)", Required = true, HelpName = "X.npy" };
        var output = new Option<string>("--output") { Description = "Where to write the outputs [batch, time, output] float32: the head's raw values, or the last layer's hidden states without a head", Required = true, HelpName = "Y.npy" };
        var stateOutput = new Option<string?>("--state-output") { Description = "Also write the final hidden state of every layer [layers, batch, hidden]", HelpName = "H.npy" };
        var initialState = new Option<string?>("--initial-state") { Description = "Start from this state [layers, batch, hidden] instead of zeros", HelpName = "H0.npy" };
        var backend = CommonOptions.Backend();
        var device = CommonOptions.Device();
        var command = new Command("run", "Run a trained model forward over input sequences")
        {
            model, inputs, output, stateOutput, initialState, backend, device,
        };
        command.SetAction(parseResult =>
        {
            string modelPath = parseResult.GetRequiredValue(model), xPath = parseResult.GetRequiredValue(inputs);
            string yPath = parseResult.GetRequiredValue(output);
            string? hPath = parseResult.GetValue(stateOutput), h0Path = parseResult.GetValue(initialState);
            var x = NpyInputs.ReadSequences(xPath, "the inputs");
            var h0 = h0Path is null ? null : NpyInputs.ReadState(h0Path);

            using var accelerator = context.OpenBackend(parseResult.GetValue(backend) ?? "auto", parseResult.GetValue(device));
            using var rnn = Checkpoint.Load(modelPath, accelerator);
            var config = rnn.Config;
            if (x.Shape[2] != config.InputSize)
                throw new ShapeException($"{xPath} has {x.Shape[2]} input features per step but {modelPath} expects {config.InputSize}");
            int[] stateShape = [config.NumLayers, x.Shape[0], config.HiddenSize];
            if (h0 is not null && !h0.Shape.AsSpan().SequenceEqual(stateShape))
                throw new ShapeException($"{h0Path} has shape {h0.ShapeText}, expected {NpyInputs.ShapeText(stateShape)} (layers, batch, hidden)");

            var result = rnn.Forward(x, h0);
            NpyArray.FromTensor(result.Output).Write(yPath);
            context.Out.WriteLine($"wrote {yPath} {result.Output.ShapeText}");
            if (hPath is not null)
            {
                NpyArray.FromTensor(result.FinalState).Write(hPath);
                context.Out.WriteLine($"wrote {hPath} {result.FinalState.ShapeText}");
            }
            return 0;
        });
        return command;
    }
}
