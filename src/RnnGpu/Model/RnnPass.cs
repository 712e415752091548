using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>
/// One model's pass over batches of up to one (batch, time) shape: it owns the workspace (<see cref="RnnWorkspace"/>) and
/// the layout of the batch in flight, and runs every stage of a pass on them: load the batch and its initial states,
/// forward, backward after a loss wrote dL/dy (<see cref="Training.Losses"/>), read out. The model caches one per shape
/// (<see cref="RnnModel.Pass"/>); training, ComputeGradients, the encoder-decoder and serving all run through it.
/// </summary>
internal sealed partial class RnnPass : IDisposable
{
    public RnnPass(RnnModel model, int batch, int time)
    {
        Model = model;
        Config = model.Config;
        Accelerator = model.Accelerator;
        Cell = RecurrentCell.For(Config.Cell);
        Buffers = new RnnWorkspace(Accelerator, Config, batch, time);
    }

    public RnnModel Model { get; }
    public RnnConfig Config { get; }
    public Accelerator Accelerator { get; }
    public RecurrentCell Cell { get; }
    public RnnWorkspace Buffers { get; }

    public int Batch => Buffers.Batch;
    public int Time => Buffers.Time;

    /// <summary>The layout of the batch loaded: its rows fit in the workspace.</summary>
    public StepLayout Layout
    {
        get => Buffers.Layout;
        set => Buffers.Layout = value;
    }

    /// <summary>
    /// Uploads input [B, T, I] (checked by the caller: this pass's shape, finite), its layout and the initial states (h0
    /// [L * D, B, S], and an LSTM's c0 [L * D, B, H]; zeros when null).
    /// </summary>
    public void Load(Tensor input, Tensor? initialState, IReadOnlyList<int>? lengths, Tensor? initialCell = null)
    {
        Layout = StepLayout.ForLengths(input.Shape[0], input.Shape[1], lengths);
        UploadInput(input.Data);
        SetInitialState(initialState, initialCell);
    }

    /// <summary>Packs batch-first x [B, T, I] (the pass's layout) through the workspace's staging array into its Input.</summary>
    public void UploadInput(ReadOnlySpan<float> input)
    {
        int n = Layout.Rows * Config.InputSize;
        var device = Buffers.Input.Slice(0, n);
        if (Accelerator.TryGetHostSpan(device, out var direct))
        {
            Layout.PackInto(input, Config.InputSize, direct, Model.HostThreads);
            return;
        }
        var staging = Buffers.Staging(n);
        Layout.PackInto(input, Config.InputSize, staging);
        Accelerator.CopyIn(staging.AsSpan(0, n), device);
    }

    /// <summary>h0 [L * D, B, S] and (LSTM) c0 [L * D, B, H] in the caller's order, zeros when null.</summary>
    public void SetInitialState(Tensor? initialState, Tensor? initialCell)
    {
        if (initialCell is not null && !Config.HasCellState)
            throw new ShapeException($"an initial cell state was given, but a {Config.Cell.ToName()} model has none (only an LSTM has c)");
        int s = Config.StateSize, h = Config.HiddenSize;
        string sizes = $"(layers x directions, batch, {(Config.ProjSize > 0 ? "proj" : "hidden")})";
        CopyStates(Sorted(initialState, Model.StateShape(Batch), "initial state", s, sizes), s, (l, d) => Buffers.Initial(l, d, 0, Batch));
        if (Config.HasCellState)
            CopyStates(Sorted(initialCell, Model.CellStateShape(Batch), "initial cell state", h, "(layers x directions, batch, hidden)"), h,
                (l, d) => Buffers.InitialCell(l, d, 0, Batch));
    }

    /// <summary>A tensor of states [L * D, B, width] in the caller's order, checked, with its rows in the pass's sorted order; null for none.</summary>
    internal float[]? Sorted(Tensor? states, int[] expected, string what, int width, string sizes = "")
    {
        if (states is null) return null;
        if (!states.Shape.AsSpan().SequenceEqual(expected))
            throw new ShapeException($"{what} has shape {states.ShapeText}, expected [{string.Join(", ", expected)}]{(sizes.Length > 0 ? " " + sizes : "")}");
        RnnModel.CheckFinite(states, what);
        return Layout.SortRows(states.Data, Config.NumLayers * Config.Directions, width, toSorted: true);
    }

    /// <summary>Sorted states [L * D, B, width] (zeros when null) into each layer and direction's buffer.</summary>
    internal void CopyStates(float[]? sorted, int width, Func<int, int, Slice> target)
    {
        long size = (long)Batch * width;
        for (int l = 0; l < Config.NumLayers; l++)
        for (int d = 0; d < Config.Directions; d++)
        {
            if (sorted is null) Accelerator.Fill(target(l, d), 0f);
            else Accelerator.CopyIn(sorted.AsSpan((int)((l * Config.Directions + d) * size), (int)size), target(l, d));
        }
    }

    /// <summary>The final states of this pass become the initial states of <paramref name="next"/> (a truncated-BPTT chunk; sorted order is shared).</summary>
    public void CarryStateTo(RnnPass next)
    {
        for (int l = 0; l < Config.NumLayers; l++)
        for (int d = 0; d < Config.Directions; d++)
        {
            Accelerator.Copy(Buffers.Final[l, d], next.Buffers.Initial(l, d, 0, next.Batch));
            if (Config.HasCellState) Accelerator.Copy(Buffers.FinalCell(l, d), next.Buffers.InitialCell(l, d, 0, next.Batch));
        }
    }

    /// <summary>Layer l, direction d's dL/dh of every step: [Rows, S].</summary>
    public Slice DStates(int layer, int direction) => Buffers.Backward.DStates[layer, direction].Slice(0, (long)Layout.Rows * Config.StateSize);

    /// <summary>An LSTM's dL/dc of layer l, direction d in DInitialCell: dL/d(final c) in, dL/dc0 out, [B, H].</summary>
    public Slice DCell(int layer, int direction) =>
        Buffers.Backward.DInitialCell.Slice((layer * Config.Directions + direction) * Buffers.CellStepSize, Buffers.CellStepSize);

    public void Dispose() => Buffers.Dispose();
}
