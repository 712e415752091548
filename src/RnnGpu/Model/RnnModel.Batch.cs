namespace RnnGpu.Model;

public sealed partial class RnnModel
{
    /// <summary>
    /// The forward pass of a server's coalesced batch, on host spans the caller keeps, so a warm call
    /// allocates nothing. <paramref name="layout"/> must list the sequences longest first with the
    /// identity order (the caller sorts its requests), so no row needs reordering. The pass is the
    /// one for (B, <paramref name="timeCapacity"/>), so batches whose longest sequence differs share it.
    /// Inputs are checked by the caller.
    /// </summary>
    /// <param name="input">[B, T, I] batch-first, T = layout.Time; steps past a sequence's length are ignored.</param>
    /// <param name="initialState">[L * D, B, S], or empty for zeros; an LSTM's c [L * D, B, H] follows it when present.</param>
    /// <param name="output">[B, T, width] (zeros past each length), or [B, O] many-to-one.</param>
    /// <param name="finalState">[L * D, B, S]: each sequence's state after its last step, then an LSTM's c [L * D, B, H].</param>
    internal void ForwardSorted(StepLayout layout, int timeCapacity, ReadOnlySpan<float> input, ReadOnlySpan<float> initialState,
        Span<float> output, Span<float> finalState)
    {
        int batch = layout.Batch;
        var pass = Pass(batch, Math.Max(timeCapacity, layout.Time));
        pass.Layout = layout;
        pass.UploadInput(input);
        var ws = pass.Buffers;
        int bh = batch * Config.StateSize, bc = batch * Config.HiddenSize, groups = Config.NumLayers * Config.Directions;
        for (int l = 0; l < Config.NumLayers; l++)
        for (int d = 0; d < Config.Directions; d++)
        {
            int g = l * Config.Directions + d;
            CopyInOrZero(initialState, g * bh, bh, ws.Initial(l, d, 0, batch));
            if (Config.HasCellState) CopyInOrZero(initialState, groups * bh + g * bc, bc, ws.InitialCell(l, d, 0, batch));
        }
        pass.Forward();
        pass.ReadModelOutput(output);
        for (int l = 0; l < Config.NumLayers; l++)
        for (int d = 0; d < Config.Directions; d++)
        {
            int g = l * Config.Directions + d;
            Accelerator.CopyOut(ws.Final[l, d], finalState.Slice(g * bh, bh));
            if (Config.HasCellState) Accelerator.CopyOut(ws.FinalCell(l, d), finalState.Slice(groups * bh + g * bc, bc));
        }
    }

    private void CopyInOrZero(ReadOnlySpan<float> states, int offset, int length, Accelerators.Slice destination)
    {
        if (states.IsEmpty) Accelerator.Fill(destination, 0f);
        else Accelerator.CopyIn(states.Slice(offset, length), destination);
    }
}
