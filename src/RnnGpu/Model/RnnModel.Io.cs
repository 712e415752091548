using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>Moving a batch between the batch-first host tensors of the API and the packed device layout.</summary>
public sealed partial class RnnModel
{
    /// <summary>
    /// Runs the model on input [B, T, I] from initial state h0 [L * D, B, H] (zeros when null), each
    /// sequence to its own length (all T when null). Returns the outputs [B, T, O] (zeros past a
    /// sequence's end; the head's raw values, or the top layer's states without a head) or [B, O] for a
    /// many-to-one model, and each sequence's final state per layer and direction [L * D, B, H].
    /// </summary>
    public RnnOutput Forward(Tensor input, Tensor? initialState = null, IReadOnlyList<int>? lengths = null)
    {
        var ws = Prepare(input, initialState, lengths);
        ForwardDevice(ws);
        return ReadOutputs(ws);
    }

    /// <summary>
    /// <see cref="Forward(Tensor, Tensor?, IReadOnlyList{int}?)"/> writing the outputs into a caller's tensor of
    /// the shape that returns ([B, T, O], or [B, O] many-to-one), for callers that run one shape again and
    /// again: a large output array made per call costs the garbage collector more than the forward pass at
    /// small sizes. Returns the final states [L * D, B, H].
    /// </summary>
    public Tensor ForwardInto(Tensor input, Tensor output, Tensor? initialState = null, IReadOnlyList<int>? lengths = null)
    {
        var (batch, time) = CheckInput(input);
        int[] expected = Config.ManyToOne ? [batch, Config.OutputSize] : [batch, time, Config.OutputWidth];
        if (!output.Shape.AsSpan().SequenceEqual(expected))
            throw new ShapeException($"output has shape {output.ShapeText}, expected [{string.Join(", ", expected)}]");
        var ws = Prepare(input, initialState, lengths);
        ForwardDevice(ws);
        ReadModelOutput(ws, output.Data);
        return FinalState(ws);
    }

    /// <summary>Checks the batch, takes a workspace for its shape and uploads input, layout and initial state.</summary>
    internal RnnWorkspace Prepare(Tensor input, Tensor? initialState, IReadOnlyList<int>? lengths)
    {
        var (batch, time) = CheckInput(input);
        var layout = StepLayout.ForLengths(batch, time, lengths);
        var ws = Workspace(batch, time);
        ws.Layout = layout;
        UploadInput(ws, input.Data);
        SetInitialState(ws, initialState);
        return ws;
    }

    /// <summary>Packs batch-first x [B, T, I] (the workspace's layout) through the workspace's staging array into its Input.</summary>
    internal void UploadInput(RnnWorkspace ws, ReadOnlySpan<float> input)
    {
        int n = ws.Layout.Rows * Config.InputSize;
        var device = ws.Input.Slice(0, n);
        if (Accelerator.TryGetHostSpan(device, out var direct))
        {
            ws.Layout.PackInto(input, Config.InputSize, direct, HostThreads);
            return;
        }
        var staging = ws.Staging(n);
        ws.Layout.PackInto(input, Config.InputSize, staging);
        Accelerator.CopyIn(staging.AsSpan(0, n), device);
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

    /// <summary>[L * D, B, H]: the shape of initial and final states.</summary>
    public int[] StateShape(int batch) => [Config.NumLayers * Config.Directions, batch, Config.HiddenSize];

    internal void SetInitialState(RnnWorkspace ws, Tensor? initialState)
    {
        int groups = Config.NumLayers * Config.Directions;
        if (initialState is null)
        {
            for (int l = 0; l < Config.NumLayers; l++)
            for (int d = 0; d < Config.Directions; d++)
                Accelerator.Fill(ws.Initial(l, d, 0, ws.Batch), 0f);
            return;
        }
        int[] expected = StateShape(ws.Batch);
        if (!initialState.Shape.AsSpan().SequenceEqual(expected))
            throw new ShapeException($"initial state has shape {initialState.ShapeText}, expected [{string.Join(", ", expected)}] (layers x directions, batch, hidden)");
        CheckFinite(initialState, "initial state");
        var sorted = ws.Layout.SortRows(initialState.Data, groups, Config.HiddenSize, toSorted: true);
        for (int l = 0; l < Config.NumLayers; l++)
        for (int d = 0; d < Config.Directions; d++)
            Accelerator.CopyIn(sorted.AsSpan((int)((l * Config.Directions + d) * ws.StepSize), (int)ws.StepSize), ws.Initial(l, d, 0, ws.Batch));
    }

    internal RnnOutput ReadOutputs(RnnWorkspace ws)
    {
        int[] shape = Config.ManyToOne ? [ws.Batch, Config.OutputSize] : [ws.Batch, ws.Time, Config.OutputWidth];
        var output = new float[Tensor.ElementCount(shape)];
        ReadModelOutput(ws, output);
        return new(new Tensor(output, shape), FinalState(ws));
    }

    /// <summary>The outputs on the host into <paramref name="output"/>: [B, T, width] batch-first (zeros at padded steps), or [B, O] many-to-one, in the caller's order.</summary>
    internal void ReadModelOutput(RnnWorkspace ws, Span<float> output)
    {
        var layout = ws.Layout;
        if (Config.ManyToOne)
        {
            int n = ws.Batch * Config.OutputSize;
            var y = ws.Staging(n).AsSpan(0, n);
            Accelerator.CopyOut(ws.HeadOutput!.Slice(0, n), y);
            layout.SortRowsInto(y, output, 1, Config.OutputSize, toSorted: false);
            return;
        }
        int width = Config.OutputWidth, rows = layout.Rows;
        // One layer of outputs [Rows, width] on the device: unpacked straight from it where the host can read it.
        Slice? single = ws.HeadOutput is { } head ? head.Slice(0, (long)rows * width)
            : Config.Directions == 1 ? ws.Outputs(Config.NumLayers - 1, 0) : (Slice?)null;
        if (single is { } s && Accelerator.TryGetHostSpan(s, out var direct))
        {
            layout.UnpackInto(direct, width, output, HostThreads);
            return;
        }
        var packed = ws.Staging((long)rows * width).AsSpan(0, rows * width);
        if (single is { } one) Accelerator.CopyOut(one, packed);
        else
        {
            // Without a head: the top layer's directions side by side, [Rows, D * H].
            int h = Config.HiddenSize, top = Config.NumLayers - 1;
            for (int d = 0; d < Config.Directions; d++)
            {
                var part = Accelerator.ToArray(ws.Outputs(top, d));
                for (int r = 0; r < rows; r++) part.AsSpan(r * h, h).CopyTo(packed.Slice(r * width + d * h, h));
            }
        }
        layout.UnpackInto(packed, width, output);
    }

    /// <summary>Each sequence's final state, every layer and direction: [L * D, B, H] in the caller's order.</summary>
    internal Tensor FinalState(RnnWorkspace ws)
    {
        int groups = Config.NumLayers * Config.Directions;
        var h = new float[groups * ws.StepSize];
        for (int l = 0; l < Config.NumLayers; l++)
        for (int d = 0; d < Config.Directions; d++)
            Accelerator.CopyOut(ws.Final[l, d], h.AsSpan((int)((l * Config.Directions + d) * ws.StepSize), (int)ws.StepSize));
        return new Tensor(ws.Layout.SortRows(h, groups, Config.HiddenSize, toSorted: false), StateShape(ws.Batch));
    }
}

/// <summary>Outputs ([B, T, O], or [B, O] many-to-one) and each sequence's final state per layer and direction [L * D, B, H].</summary>
public sealed record RnnOutput(Tensor Output, Tensor FinalState);
