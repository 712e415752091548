using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>Reading a pass's results back into the batch-first host tensors of the API, in the caller's order.</summary>
internal sealed partial class RnnPass
{
    public RnnOutput ReadOutputs()
    {
        int[] shape = Config.ManyToOne ? [Batch, Config.OutputSize] : [Batch, Time, Config.OutputWidth];
        var output = new float[Tensor.ElementCount(shape)];
        ReadModelOutput(output);
        return new(new Tensor(output, shape), FinalState(), Config.HasCellState ? FinalCell() : null);
    }

    /// <summary>The outputs on the host into <paramref name="output"/>: [B, T, width] batch-first (zeros at padded steps), or [B, O] many-to-one, in the caller's order.</summary>
    public void ReadModelOutput(Span<float> output)
    {
        var layout = Layout;
        if (Config.ManyToOne)
        {
            int n = Batch * Config.OutputSize;
            var y = Buffers.Staging(n).AsSpan(0, n);
            Accelerator.CopyOut(Buffers.HeadOutput!.Slice(0, n), y);
            layout.SortRowsInto(y, output, 1, Config.OutputSize, toSorted: false);
            return;
        }
        int width = Config.OutputWidth, rows = layout.Rows;
        // One layer of outputs [Rows, width] on the device: unpacked straight from it where the host can read it.
        Slice? single = Buffers.HeadOutput is { } head ? head.Slice(0, (long)rows * width)
            : Config.Directions == 1 ? Buffers.Outputs(Config.NumLayers - 1, 0) : (Slice?)null;
        if (single is { } s && Accelerator.TryGetHostSpan(s, out var direct))
        {
            layout.UnpackInto(direct, width, output, Model.HostThreads);
            return;
        }
        var packed = Buffers.Staging((long)rows * width).AsSpan(0, rows * width);
        if (single is { } one) Accelerator.CopyOut(one, packed);
        else
        {
            // Without a head: the top layer's directions side by side, [Rows, D * S].
            int size = Config.StateSize, top = Config.NumLayers - 1;
            for (int d = 0; d < Config.Directions; d++)
            {
                var part = Accelerator.ToArray(Buffers.Outputs(top, d));
                for (int r = 0; r < rows; r++) part.AsSpan(r * size, size).CopyTo(packed.Slice(r * width + d * size, size));
            }
        }
        layout.UnpackInto(packed, width, output);
    }

    /// <summary>Each sequence's final h, every layer and direction: [L * D, B, S] in the caller's order.</summary>
    public Tensor FinalState() => ReadStates((l, d) => Buffers.Final[l, d], Config.StateSize, Model.StateShape(Batch));

    /// <summary>An LSTM's final c, every layer and direction: [L * D, B, H] in the caller's order.</summary>
    public Tensor FinalCell() => ReadStates(Buffers.FinalCell, Config.HiddenSize, Model.CellStateShape(Batch));

    /// <summary>dL/dh0 after <see cref="Backward"/>: [L * D, B, S] in the caller's order.</summary>
    public Tensor InitialStateGradient() => Unsort(Accelerator.ToArray(Buffers.Backward.DInitialState), Config.StateSize, Model.StateShape(Batch));

    /// <summary>An LSTM's dL/dc0 after <see cref="Backward"/>: [L * D, B, H] in the caller's order.</summary>
    public Tensor InitialCellGradient() => Unsort(Accelerator.ToArray(Buffers.Backward.DInitialCell), Config.HiddenSize, Model.CellStateShape(Batch));

    /// <summary>dL/dx after a <see cref="Backward"/> that made it: [B, T, I] (zeros past each sequence's end).</summary>
    public Tensor InputGradient()
    {
        var dx = Accelerator.ToArray(Buffers.Backward.DInput.Slice(0, (long)Layout.Rows * Config.InputSize));
        return new Tensor(Layout.Unpack(dx, Config.InputSize), Batch, Layout.Time, Config.InputSize);
    }

    private Tensor ReadStates(Func<int, int, DeviceBuffer> final, int width, int[] shape)
    {
        long size = (long)Batch * width;
        var all = new float[Config.NumLayers * Config.Directions * size];
        for (int l = 0; l < Config.NumLayers; l++)
        for (int d = 0; d < Config.Directions; d++)
            Accelerator.CopyOut(final(l, d), all.AsSpan((int)((l * Config.Directions + d) * size), (int)size));
        return Unsort(all, width, shape);
    }

    private Tensor Unsort(float[] sorted, int width, int[] shape) =>
        new(Layout.SortRows(sorted, Config.NumLayers * Config.Directions, width, toSorted: false), shape);
}
