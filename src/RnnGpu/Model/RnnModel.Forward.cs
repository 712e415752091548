using RnnGpu.Accelerators;

namespace RnnGpu.Model;

public sealed partial class RnnModel
{
    /// <summary>
    /// The forward pass over a workspace whose Input, Layout and initial states are set. Per layer and
    /// direction: one GEMM per input part projects every step's input at once, then one fused launch per
    /// step adds the recurrent product and the activation in place, over only the sequences still running
    /// (when every sequence runs every step, the whole loop is one RnnSequenceForward call, which the CUDA
    /// back end runs as one persistent launch for small batches). Then the head: one GEMM over all
    /// steps, or over the final states (many-to-one).
    /// With <paramref name="dropoutMasks"/> (training), each layer but the last feeds the next through its mask.
    /// </summary>
    internal void ForwardDevice(RnnWorkspace ws, Func<int, int, ReadOnlyMemory<float>>? dropoutMasks = null)
    {
        var layout = ws.Layout;
        int hidden = Config.HiddenSize, rows = layout.Rows;
        var acc = Accelerator;
        for (int l = 0; l < Config.NumLayers; l++)
        {
            for (int d = 0; d < Config.Directions; d++)
            {
                Slice pre = ws.Outputs(l, d);   // [Rows, H], becomes h in place
                var bias = ws.BiasSum(l, d);
                acc.Copy(Parameter(ParameterLayout.BiasIh(l, d)), bias);
                acc.AddBias(1, hidden, Parameter(ParameterLayout.BiasHh(l, d)), bias);
                ProjectInputs(ws, l, d, pre, bias, dropoutMasks is not null);
                if (d == 0) RecurForward(ws, l);
                else RecurReverse(ws, l);
            }
            if (dropoutMasks is not null && l < Config.NumLayers - 1 && Config.Dropout > 0)
                for (int d = 0; d < Config.Directions; d++)
                {
                    var mask = ws.Mask(l, d).Slice(0, (long)rows * hidden);
                    acc.CopyIn(dropoutMasks(l, d).Span, mask);
                    acc.Multiply(ws.Outputs(l, d), mask, ws.Dropped(l, d).Slice(0, (long)rows * hidden));
                }
        }
        if (ws.HeadOutput is { } y) HeadForward(ws, y);
    }

    /// <summary>Parts of layer l's input: x, or one per direction of the layer below.</summary>
    private int LayerInputParts(int layer) => layer == 0 ? 1 : Config.Directions;

    /// <summary>Part p of layer l's input: x, or direction p of the layer below (masked in training with dropout): [Rows, width] at that column of the layer's input.</summary>
    private (Slice X, int Width, int Column) LayerInput(RnnWorkspace ws, int layer, int part, bool dropped)
    {
        if (layer == 0) return (ws.Input.Slice(0, (long)ws.Layout.Rows * Config.InputSize), Config.InputSize, 0);
        int h = Config.HiddenSize;
        bool masked = dropped && Config.Dropout > 0;
        return (masked ? ws.Dropped(layer - 1, part).Slice(0, (long)ws.Layout.Rows * h) : ws.Outputs(layer - 1, part), h, part * h);
    }

    /// <summary>
    /// pre = Σ_parts x_part W_ih[:, part]^T + bias: [Rows, in_part] x [H, in]^T restricted to the part's columns, the
    /// bias (b_ih + b_hh, [H]) added by the last part's product.
    /// </summary>
    private void ProjectInputs(RnnWorkspace ws, int layer, int direction, Slice pre, Slice bias, bool dropped)
    {
        int hidden = Config.HiddenSize, inSize = Config.LayerInputSize(layer), rows = ws.Layout.Rows, parts = LayerInputParts(layer);
        var w = Parameter(ParameterLayout.WeightIh(layer, direction));
        for (int part = 0; part < parts; part++)
        {
            var (x, width, column) = LayerInput(ws, layer, part, dropped);
            var spec = new GemmSpec(false, true, rows, hidden, width, 1f, part == 0 ? 0f : 1f, width, inSize, hidden);
            if (part == parts - 1) Accelerator.Gemm(spec, x, w.Sub(column, w.Length - column), pre, bias);
            else Accelerator.Gemm(spec, x, w.Sub(column, w.Length - column), pre);
        }
    }

    /// <summary>
    /// Forward direction: step t reads the state of step t - 1 (h0 for t = 0) for its first b_t rows.
    /// Sequences that end at step t leave their state in Final.
    /// </summary>
    private void RecurForward(RnnWorkspace ws, int l)
    {
        var layout = ws.Layout;
        int hidden = Config.HiddenSize;
        var acc = Accelerator;
        var wHh = Parameter(ParameterLayout.WeightHh(l, 0));
        if (layout.Uniform && layout.Time > 0 && layout.BatchSizes[0] > 0)
        {
            // Every sequence runs every step: the time loop is one call (on CUDA, one persistent launch for small batches).
            int b = layout.BatchSizes[0];
            acc.RnnSequenceForward(Config.Nonlinearity, b, hidden, layout.Time, ws.Initial(l, 0, 0, b), wHh, ws.Outputs(l, 0));
            acc.Copy(ws.Step(l, 0, layout.Time - 1, b), ws.Final[l, 0].Slice(0, (long)b * hidden));
            KeepInitialOfEmpty(ws, l, 0);
            return;
        }
        // Sequences of different lengths, longest first: one call runs every step, each on the sequences still running.
        int steps = 0;
        while (steps < layout.Time && layout.BatchSizes[steps] > 0) steps++;
        if (steps > 0)
            acc.RnnPackedSequenceForward(Config.Nonlinearity, layout.BatchSizes.AsSpan(0, steps), hidden, ws.Initial(l, 0, 0, layout.BatchSizes[0]), wHh, ws.Outputs(l, 0));
        for (int t = 0; t < steps; t++)
        {
            int bt = layout.BatchSizes[t], ended = layout.BatchSize(t + 1);
            if (ended < bt)
                acc.Copy(ws.Step(l, 0, t, bt).Sub((long)ended * hidden, (long)(bt - ended) * hidden),
                    ws.Final[l, 0].Slice((long)ended * hidden, (long)(bt - ended) * hidden));
        }
        KeepInitialOfEmpty(ws, l, 0);
    }

    /// <summary>
    /// How many steps from t down (t, t - 1, ...) run the same sequences in the reverse direction. Batch-invariant
    /// mode runs such a stretch as one <see cref="Accelerator.RnnSequenceForward"/> (on the CPU its invariant step
    /// would pack W_hh every step); otherwise each step is its own fused step, which the step-sized kernels run fastest.
    /// </summary>
    private int ReverseRunLength(StepLayout layout, int t)
    {
        int run = 1;
        if (Accelerator.BatchInvariant)
            while (t - run >= 0 && layout.BatchSizes[t - run] == layout.BatchSizes[t]) run++;
        return run;
    }

    /// <summary>A sequence with no step here (a truncated-BPTT chunk after its end) keeps its state.</summary>
    private void KeepInitialOfEmpty(RnnWorkspace ws, int l, int d)
    {
        int b0 = ws.Layout.BatchSize(0), h = Config.HiddenSize;
        if (b0 < ws.Batch)
            Accelerator.Copy(ws.Initial(l, d, b0, ws.Batch - b0), ws.Final[l, d].Slice((long)b0 * h, (long)(ws.Batch - b0) * h));
    }

    /// <summary>
    /// Reverse direction: step t reads the state of step t + 1 for the sequences that reach it and h0 for
    /// those whose last step is t. That mixed start is gathered into the Previous buffer (the reverse
    /// layout keeps h0 after the last step, so a uniform layout needs no gathering).
    /// </summary>
    private void RecurReverse(RnnWorkspace ws, int l)
    {
        var layout = ws.Layout;
        int hidden = Config.HiddenSize;
        var acc = Accelerator;
        var wHh = Parameter(ParameterLayout.WeightHh(l, 1));
        if (layout.Uniform && layout.Time > 0 && layout.BatchSizes[0] > 0)
        {
            // Every sequence runs every step: the time loop is one call (on CUDA, one persistent launch for small batches).
            int b = layout.BatchSizes[0];
            acc.RnnSequenceForward(Config.Nonlinearity, b, hidden, layout.Time, ws.Initial(l, 1, 0, b), wHh, ws.Outputs(l, 1), reverse: true);
        }
        else
        {
            for (int t = layout.Time - 1, run; t >= 0; t -= run)
            {
                int bt = layout.BatchSizes[t], next = layout.BatchSize(t + 1);
                run = ReverseRunLength(layout, t);
                if (bt == 0) continue;
                Slice hPrev;
                if (layout.Uniform)
                    hPrev = t == layout.Time - 1 ? ws.Initial(l, 1, 0, bt) : ws.Step(l, 1, t + 1, bt);
                else
                {
                    hPrev = ws.PreviousBuffer(l, 1).Slice((long)layout.Offsets[t] * hidden, (long)bt * hidden);
                    if (next > 0) acc.Copy(ws.Step(l, 1, t + 1, next), hPrev.Sub(0, (long)next * hidden));
                    acc.Copy(ws.Initial(l, 1, next, bt - next), hPrev.Sub((long)next * hidden, (long)(bt - next) * hidden));
                }
                int first = t - run + 1;
                var h = ws.Step(l, 1, t, bt);
                if (run == 1) acc.RnnStepForward(Config.Nonlinearity, bt, hidden, h, hPrev, wHh, h);
                else acc.RnnSequenceForward(Config.Nonlinearity, bt, hidden, run, hPrev, wHh, ws.Step(l, 1, first, run * bt), reverse: true);
                if (!layout.Uniform)   // inside the stretch each step starts from the whole step after it
                    for (int s = first; s < t; s++)
                        acc.Copy(ws.Step(l, 1, s + 1, bt), ws.PreviousBuffer(l, 1).Slice((long)layout.Offsets[s] * hidden, (long)bt * hidden));
            }
        }
        int b0 = layout.BatchSize(0);
        if (b0 > 0) acc.Copy(ws.Step(l, 1, 0, b0), ws.Final[l, 1].Slice(0, (long)b0 * hidden));
        KeepInitialOfEmpty(ws, l, 1);
    }

    /// <summary>y = Σ_d h_d W_o[:, d]^T + b_o over every step [Rows, O], or over the final states [B, O].</summary>
    private void HeadForward(RnnWorkspace ws, DeviceBuffer y)
    {
        int o = Config.OutputSize, hidden = Config.HiddenSize, top = Config.NumLayers - 1;
        int rows = Config.ManyToOne ? ws.Batch : ws.Layout.Rows;
        var w = Parameter(ParameterLayout.HeadWeight);
        var output = y.Slice(0, (long)rows * o);
        for (int d = 0; d < Config.Directions; d++)
        {
            Slice h = Config.ManyToOne ? ws.Final[top, d].All : ws.Outputs(top, d);
            var spec = new GemmSpec(false, true, rows, o, hidden, 1f, d == 0 ? 0f : 1f, hidden, Config.LayerOutputSize, o);
            var wd = w.Sub(d * hidden, w.Length - d * hidden);
            // The bias comes with the last direction's product.
            if (d == Config.Directions - 1) Accelerator.Gemm(spec, h, wd, output, Parameter(ParameterLayout.HeadBias));
            else Accelerator.Gemm(spec, h, wd, output);
        }
    }
}
