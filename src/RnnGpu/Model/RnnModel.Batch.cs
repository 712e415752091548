using RnnGpu.Accelerators;

namespace RnnGpu.Model;

public sealed partial class RnnModel
{
    /// <summary>
    /// The forward pass of a server's coalesced batch, on host spans the caller keeps, so a warm call
    /// allocates nothing. <paramref name="layout"/> must list the sequences longest first with the
    /// identity order (the caller sorts its requests), so no row needs reordering. The workspace is the
    /// one for (B, <paramref name="timeCapacity"/>), so batches whose longest sequence differs share it.
    /// Inputs are checked by the caller.
    /// </summary>
    /// <param name="input">[B, T, I] batch-first, T = layout.Time; steps past a sequence's length are ignored.</param>
    /// <param name="initialState">[L * D, B, H], or empty for zeros.</param>
    /// <param name="output">[B, T, width] (zeros past each length), or [B, O] many-to-one.</param>
    /// <param name="finalState">[L * D, B, H]: each sequence's state after its last step.</param>
    internal void ForwardSorted(StepLayout layout, int timeCapacity, ReadOnlySpan<float> input, ReadOnlySpan<float> initialState,
        Span<float> output, Span<float> finalState)
    {
        int batch = layout.Batch, hidden = Config.HiddenSize;
        var ws = Workspace(batch, Math.Max(timeCapacity, layout.Time));
        ws.Layout = layout;
        UploadInput(ws, input);
        int bh = batch * hidden;
        for (int l = 0; l < Config.NumLayers; l++)
        for (int d = 0; d < Config.Directions; d++)
        {
            var h0 = ws.Initial(l, d, 0, batch);
            if (initialState.IsEmpty) Accelerator.Fill(h0, 0f);
            else Accelerator.CopyIn(initialState.Slice((l * Config.Directions + d) * bh, bh), h0);
        }
        ForwardDevice(ws);
        ReadModelOutput(ws, output);
        for (int l = 0; l < Config.NumLayers; l++)
        for (int d = 0; d < Config.Directions; d++)
            Accelerator.CopyOut(ws.Final[l, d], finalState.Slice((l * Config.Directions + d) * bh, bh));
    }
}
