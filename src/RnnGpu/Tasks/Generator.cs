using RnnGpu.Model;

namespace RnnGpu.Tasks;

/// <summary>
/// One-to-many generation: a model run one step at a time, each output fed back (through a feedback
/// function) as the next input, the hidden state carried from step to step on the host. Each step is a
/// <see cref="RnnModel.Forward"/> of one time step, whose workspace the model keeps cached, so a long
/// generation allocates no device memory after its first step.
/// </summary>
public sealed class Generator
{
    public Generator(RnnModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Config.Bidirectional)
            throw new ShapeException("a bidirectional model cannot generate step by step: its reverse direction needs the inputs that come later");
        Model = model;
    }

    public RnnModel Model { get; }

    /// <summary>
    /// Runs <paramref name="prompt"/> ([B, I]: one start step, or [B, P, I]: a sequence, each to its
    /// <paramref name="promptLengths"/> when given) from <paramref name="initialState"/> (zeros when null),
    /// then generates: output 0 is the model's output at the prompt's last step, and output t + 1 is its
    /// output after feeding back <c>feedback(output t)</c>. Returns the outputs [B, steps, O], what the
    /// feedback made of each of them [B, steps, I] (the last one computed but not fed), and the state
    /// after the last step [L, B, S] (and an LSTM's c [L, B, H]): feeding the last fed-back input from it continues the generation.
    /// <paramref name="feedback"/> maps [B, O] to [B, I]; when null, the output itself (O must equal I).
    /// </summary>
    public GenerationResult Generate(Tensor prompt, int steps, Tensor? initialState = null,
        Func<Tensor, Tensor>? feedback = null, IReadOnlyList<int>? promptLengths = null, Tensor? initialCell = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var config = Model.Config;
        if (steps < 1) throw new ShapeException($"generation needs at least 1 step, got {steps}");
        if (feedback is null && config.OutputWidth != config.InputSize)
            throw new ShapeException(
                $"the model outputs {config.OutputWidth} values per step but takes {config.InputSize} inputs: feeding the output back as it is needs them equal; give a feedback function (e.g. Feedback.ArgmaxOneHot for classes)");
        feedback ??= Feedback.Identity;
        if (prompt.Rank == 2) prompt = new Tensor(prompt.Data, prompt.Shape[0], 1, prompt.Shape[1]);
        var (batch, time) = Model.CheckInput(prompt);
        int o = config.OutputWidth, inputs = config.InputSize;

        var first = Model.Forward(prompt, initialState, promptLengths, initialCell);
        var (state, cell) = (first.FinalState, first.FinalCell);
        var y = LastOutputs(first.Output, batch, time, o, promptLengths);
        var outputs = new float[(long)batch * steps * o];
        var fed = new float[(long)batch * steps * inputs];
        for (int t = 0; ; t++)
        {
            for (int b = 0; b < batch; b++) Array.Copy(y, b * o, outputs, ((long)b * steps + t) * o, o);
            var next = feedback(new Tensor(y, batch, o));
            if (next is null || next.Rank != 2 || next.Shape[0] != batch || next.Shape[1] != inputs)
                throw new ShapeException($"the feedback function returned {next?.ShapeText ?? "null"}, expected the next inputs [{batch}, {inputs}]");
            for (int b = 0; b < batch; b++) Array.Copy(next.Data, b * inputs, fed, ((long)b * steps + t) * inputs, inputs);
            if (t == steps - 1) break;
            var step = Model.Forward(new Tensor(next.Data, batch, 1, inputs), state, initialCell: cell);
            (state, cell) = (step.FinalState, step.FinalCell);
            y = step.Output.Data;   // [B, 1, O] or [B, O] many-to-one: the same values
        }
        return new GenerationResult(new Tensor(outputs, batch, steps, o), new Tensor(fed, batch, steps, inputs), state, cell);
    }

    /// <summary>Each sequence's output at its own last step: [B * O] from [B, T, O] (or [B, O] many-to-one).</summary>
    private float[] LastOutputs(Tensor output, int batch, int time, int o, IReadOnlyList<int>? lengths)
    {
        if (Model.Config.ManyToOne) return output.Data;
        var y = new float[batch * o];
        for (int b = 0; b < batch; b++)
        {
            int last = (lengths is null ? time : lengths[b]) - 1;
            Array.Copy(output.Data, ((long)b * time + last) * o, y, b * o, o);
        }
        return y;
    }
}

/// <summary>
/// Generated outputs [B, steps, O]; the inputs the feedback made of them [B, steps, I] (for sampled
/// classes: the one-hot codes of the draws); the state after the last step [L, B, S], and an LSTM's c [L, B, H] (else null).
/// </summary>
public sealed record GenerationResult(Tensor Output, Tensor FedBack, Tensor FinalState, Tensor? FinalCell = null)
{
    /// <summary>The class each fed-back input is the one-hot code of (its largest entry), [B, steps].</summary>
    public int[,] FedBackClasses()
    {
        int batch = FedBack.Shape[0], steps = FedBack.Shape[1], width = FedBack.Shape[2];
        var ids = new int[batch, steps];
        for (int b = 0; b < batch; b++)
        for (int t = 0; t < steps; t++)
        {
            int row = (b * steps + t) * width, best = 0;
            for (int k = 1; k < width; k++) if (FedBack.Data[row + k] > FedBack.Data[row + best]) best = k;
            ids[b, t] = best;
        }
        return ids;
    }
}
