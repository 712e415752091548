using RnnGpu.Accelerators;

namespace RnnGpu.Model;

public sealed partial class RnnModel
{
    /// <summary>
    /// The forward pass over a workspace whose Input, Layout and initial states are set. Per layer and
    /// direction: one GEMM per input part projects every step's input at once, then one fused launch per
    /// step adds the recurrent product and the activation in place, over only the sequences still running:
    /// the whole time loop is one RnnRecurrenceForward call (which the CPU back end runs as one team job and the
    /// ILGPU back end as one persistent launch for small batches). Then the head: one GEMM over all steps, or
    /// over the final states (many-to-one).
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

    /// <summary>Steps that run at least one sequence (a truncated-BPTT chunk may end before its last steps).</summary>
    private static int RunningSteps(StepLayout layout)
    {
        int steps = 0;
        while (steps < layout.Time && layout.BatchSizes[steps] > 0) steps++;
        return steps;
    }

    /// <summary>
    /// Forward direction: one recurrence call over every step, each on the sequences still running (step t reads
    /// the state of step t - 1, h0 for t = 0). Sequences that end at step t leave their state in Final.
    /// </summary>
    private void RecurForward(RnnWorkspace ws, int l)
    {
        var layout = ws.Layout;
        int hidden = Config.HiddenSize, steps = RunningSteps(layout);
        var acc = Accelerator;
        if (steps > 0)
            acc.RnnRecurrenceForward(Config.Nonlinearity, layout.BatchSizes.AsSpan(0, steps), hidden, ws.Initial(l, 0, 0, layout.BatchSizes[0]),
                Parameter(ParameterLayout.WeightHh(l, 0)), ws.Outputs(l, 0));
        for (int t = 0; t < steps; t++)
        {
            int bt = layout.BatchSizes[t], ended = layout.BatchSize(t + 1);
            if (ended < bt)
                acc.Copy(ws.Step(l, 0, t, bt).Sub((long)ended * hidden, (long)(bt - ended) * hidden),
                    ws.Final[l, 0].Slice((long)ended * hidden, (long)(bt - ended) * hidden));
        }
        KeepInitialOfEmpty(ws, l, 0);
    }

    /// <summary>A sequence with no step here (a truncated-BPTT chunk after its end) keeps its state.</summary>
    private void KeepInitialOfEmpty(RnnWorkspace ws, int l, int d)
    {
        int b0 = ws.Layout.BatchSize(0), h = Config.HiddenSize;
        if (b0 < ws.Batch)
            Accelerator.Copy(ws.Initial(l, d, b0, ws.Batch - b0), ws.Final[l, d].Slice((long)b0 * h, (long)(ws.Batch - b0) * h));
    }

    /// <summary>
    /// Reverse direction: one recurrence call from the last step to the first; step t reads the state of step t + 1
    /// for the sequences that reach it and h0 for those whose last step is t. Every sequence ends at step 0.
    /// </summary>
    private void RecurReverse(RnnWorkspace ws, int l)
    {
        var layout = ws.Layout;
        int hidden = Config.HiddenSize, steps = RunningSteps(layout), b0 = layout.BatchSize(0);
        var acc = Accelerator;
        if (steps > 0)
        {
            acc.RnnRecurrenceForward(Config.Nonlinearity, layout.BatchSizes.AsSpan(0, steps), hidden, ws.Initial(l, 1, 0, b0),
                Parameter(ParameterLayout.WeightHh(l, 1)), ws.Outputs(l, 1), reverse: true);
            acc.Copy(ws.Step(l, 1, 0, b0), ws.Final[l, 1].Slice(0, (long)b0 * hidden));
        }
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
