namespace RnnGpu.Model;

/// <summary>The model's forward API over the batch-first host tensors; each call runs a cached <see cref="RnnPass"/>.</summary>
public sealed partial class RnnModel
{
    /// <summary>
    /// Runs the model on input [B, T, I] from initial state h0 [L * D, B, S] (and, for an LSTM, c0 [L * D, B, H]; zeros when
    /// null), each sequence to its own length (all T when null). Returns the outputs [B, T, O] (zeros past a sequence's end;
    /// the head's raw values, or the top layer's states without a head) or [B, O] for a many-to-one model, and each
    /// sequence's final state per layer and direction [L * D, B, S] (with an LSTM's final c [L * D, B, H]).
    /// </summary>
    public RnnOutput Forward(Tensor input, Tensor? initialState = null, IReadOnlyList<int>? lengths = null, Tensor? initialCell = null)
    {
        var pass = Prepare(input, initialState, lengths, initialCell);
        pass.Forward();
        return pass.ReadOutputs();
    }

    /// <summary>
    /// <see cref="Forward(Tensor, Tensor?, IReadOnlyList{int}?, Tensor?)"/> writing the outputs into a caller's tensor of
    /// the shape that returns ([B, T, O], or [B, O] many-to-one), for callers that run one shape again and
    /// again: a large output array made per call costs the garbage collector more than the forward pass at
    /// small sizes. Returns <paramref name="output"/> with the final states [L * D, B, S] (and an LSTM's c).
    /// </summary>
    public RnnOutput ForwardInto(Tensor input, Tensor output, Tensor? initialState = null, IReadOnlyList<int>? lengths = null,
        Tensor? initialCell = null)
    {
        var (batch, time) = CheckInput(input);
        int[] expected = Config.ManyToOne ? [batch, Config.OutputSize] : [batch, time, Config.OutputWidth];
        if (!output.Shape.AsSpan().SequenceEqual(expected))
            throw new ShapeException($"output has shape {output.ShapeText}, expected [{string.Join(", ", expected)}]");
        var pass = Prepare(input, batch, time, initialState, lengths, initialCell);
        pass.Forward();
        pass.ReadModelOutput(output.Data);
        return new RnnOutput(output, pass.FinalState(), Config.HasCellState ? pass.FinalCell() : null);
    }

    /// <summary>The pass for the batch's shape, the batch (checked here) and its initial states loaded.</summary>
    internal RnnPass Prepare(Tensor input, Tensor? initialState, IReadOnlyList<int>? lengths, Tensor? initialCell)
    {
        var (batch, time) = CheckInput(input);
        return Prepare(input, batch, time, initialState, lengths, initialCell);
    }

    /// <summary>As above for an input already checked to be [batch, time, I] and finite.</summary>
    private RnnPass Prepare(Tensor input, int batch, int time, Tensor? initialState, IReadOnlyList<int>? lengths, Tensor? initialCell)
    {
        var pass = Pass(batch, time);
        pass.Load(input, initialState, lengths, initialCell);
        return pass;
    }

    /// <summary>The threads that copies between the caller's tensors and host-visible device memory may use: the CPU back end's.</summary>
    internal int HostThreads => Accelerator is Accelerators.Cpu.CpuAccelerator cpu ? cpu.Threads : 1;

    internal (int Batch, int Time) CheckInput(Tensor input)
    {
        if (input.Rank != 3 || input.Shape[2] != Config.InputSize || input.Shape[0] < 1 || input.Shape[1] < 1)
            throw new ShapeException($"input has shape {input.ShapeText}, expected [batch, time, {Config.InputSize}] with batch and time at least 1");
        CheckFinite(input, "input");
        return (input.Shape[0], input.Shape[1]);
    }

    internal static void CheckFinite(Tensor t, string what)
    {
        int bad = Finite.FirstNonFinite(t.Data);
        if (bad >= 0) throw new ShapeException($"{what} holds a non-finite value ({t.Data[bad]}) at flat index {bad}");
    }

    /// <summary>[L * D, B, S]: the shape of initial and final h (S: the state size, an LSTM's projection or H).</summary>
    public int[] StateShape(int batch) => [Config.NumLayers * Config.Directions, batch, Config.StateSize];

    /// <summary>[L * D, B, H]: the shape of an LSTM's initial and final c.</summary>
    public int[] CellStateShape(int batch) => [Config.NumLayers * Config.Directions, batch, Config.HiddenSize];
}

/// <summary>
/// Outputs ([B, T, O], or [B, O] many-to-one) and each sequence's final state per layer and direction [L * D, B, S]; for an
/// LSTM also its final cell state [L * D, B, H] (null for the other cells).
/// </summary>
public sealed record RnnOutput(Tensor Output, Tensor FinalState, Tensor? FinalCell = null);
