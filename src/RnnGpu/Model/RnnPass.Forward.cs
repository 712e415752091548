using RnnGpu.Accelerators;

namespace RnnGpu.Model;

internal sealed partial class RnnPass
{
    /// <summary>
    /// The forward pass over the batch loaded. Per layer and direction: one GEMM per input part projects every step's
    /// input at once (with the biases) into the cell's projection, then the cell's recurrence runs the whole time loop as
    /// one accelerator call over only the sequences still running at each step (the CPU back end runs the Elman one as one
    /// team job, the ILGPU back end as one persistent launch for small batches). Then the head: one GEMM over all steps, or
    /// over the final states (many-to-one). With <paramref name="dropoutMasks"/> (training), each layer but the last feeds
    /// the next through its mask.
    /// </summary>
    public void Forward(Func<int, int, ReadOnlyMemory<float>>? dropoutMasks = null)
    {
        var ws = Buffers;
        int rows = Layout.Rows, s = Config.StateSize, steps = RunningSteps(Layout);
        var acc = Accelerator;
        for (int l = 0; l < Config.NumLayers; l++)
        {
            for (int d = 0; d < Config.Directions; d++)
            {
                var bias = ws.BiasSum(l, d);
                acc.Copy(Model.Parameter(ParameterLayout.BiasIh(l, d)), bias);
                if (Cell.HiddenBiasInProjection) acc.AddBias(1, Config.GateWidth, Model.Parameter(ParameterLayout.BiasHh(l, d)), bias);
                ProjectInputs(l, d, Cell.Projection(this, l, d), bias, dropoutMasks is not null);
                if (steps > 0) Cell.Forward(this, l, d, Layout.BatchSizes.AsSpan(0, steps));
                CollectFinal(l, d, steps, cell: false);
                if (Config.HasCellState) CollectFinal(l, d, steps, cell: true);
            }
            if (dropoutMasks is not null && l < Config.NumLayers - 1 && Config.Dropout > 0)
                for (int d = 0; d < Config.Directions; d++)
                {
                    var mask = ws.Mask(l, d).Slice(0, (long)rows * s);
                    acc.CopyIn(dropoutMasks(l, d).Span, mask);
                    acc.Multiply(ws.Outputs(l, d), mask, ws.Dropped(l, d).Slice(0, (long)rows * s));
                }
        }
        if (ws.HeadOutput is { } y) HeadForward(y);
    }

    /// <summary>Parts of layer l's input: x, or one per direction of the layer below.</summary>
    private int LayerInputParts(int layer) => layer == 0 ? 1 : Config.Directions;

    /// <summary>Part p of layer l's input: x, or direction p of the layer below (masked in training with dropout): [Rows, width] at that column of the layer's input.</summary>
    private (Slice X, int Width, int Column) LayerInput(int layer, int part, bool dropped)
    {
        if (layer == 0) return (Buffers.Input.Slice(0, (long)Layout.Rows * Config.InputSize), Config.InputSize, 0);
        int s = Config.StateSize;
        bool masked = dropped && Config.Dropout > 0;
        return (masked ? Buffers.Dropped(layer - 1, part).Slice(0, (long)Layout.Rows * s) : Buffers.Outputs(layer - 1, part), s, part * s);
    }

    /// <summary>
    /// pre = Σ_parts x_part W_ih[:, part]^T + bias: [Rows, in_part] x [G * H, in]^T restricted to the part's columns, the
    /// bias ([G * H]) added by the last part's product.
    /// </summary>
    private void ProjectInputs(int layer, int direction, Slice pre, Slice bias, bool dropped)
    {
        int gates = Config.GateWidth, inSize = Config.LayerInputSize(layer), rows = Layout.Rows, parts = LayerInputParts(layer);
        string name = ParameterLayout.WeightIh(layer, direction);
        var w = Model.Parameter(name);
        var quantized = Model.QuantizedWeight(name);
        for (int part = 0; part < parts; part++)
        {
            var (x, width, column) = LayerInput(layer, part, dropped);
            var spec = new GemmSpec(false, true, rows, gates, width, 1f, part == 0 ? 0f : 1f, width, inSize, gates);
            if (quantized is not null) Accelerator.Gemm(spec, x, quantized, column, pre, part == parts - 1 ? bias : default);
            else if (part == parts - 1) Accelerator.Gemm(spec, x, w.Sub(column, w.Length - column), pre, bias);
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
    /// Each sequence's final h (or, with <paramref name="cell"/>, an LSTM's c) into Final: forwards the state of its last
    /// step, in reverse the state of step 0; a sequence with no step here (a truncated-BPTT chunk after its end) keeps its
    /// initial state.
    /// </summary>
    private void CollectFinal(int l, int d, int steps, bool cell)
    {
        var ws = Buffers;
        long width = cell ? Config.HiddenSize : Config.StateSize;
        var final = cell ? ws.FinalCell(l, d) : ws.Final[l, d];
        Slice Step(int t, int rows) => cell ? ws.CellStep(l, d, t, rows) : ws.Step(l, d, t, rows);
        if (d == 0)
            for (int t = 0; t < steps; t++)
            {
                int bt = Layout.BatchSizes[t], ended = Layout.BatchSize(t + 1);
                if (ended < bt)
                    Accelerator.Copy(Step(t, bt).Sub(ended * width, (bt - ended) * width), final.Slice(ended * width, (bt - ended) * width));
            }
        else if (steps > 0)
            Accelerator.Copy(Step(0, Layout.BatchSizes[0]), final.Slice(0, Layout.BatchSizes[0] * width));
        int b0 = Layout.BatchSize(0);
        if (b0 < Batch)
            Accelerator.Copy(cell ? ws.InitialCell(l, d, b0, Batch - b0) : ws.Initial(l, d, b0, Batch - b0), final.Slice(b0 * width, (Batch - b0) * width));
    }

    /// <summary>y = Σ_d h_d W_o[:, d]^T + b_o over every step [Rows, O], or over the final states [B, O].</summary>
    private void HeadForward(DeviceBuffer y)
    {
        int o = Config.OutputSize, s = Config.StateSize, top = Config.NumLayers - 1;
        int rows = Config.ManyToOne ? Batch : Layout.Rows;
        var w = Model.Parameter(ParameterLayout.HeadWeight);
        var quantized = Model.QuantizedWeight(ParameterLayout.HeadWeight);
        var output = y.Slice(0, (long)rows * o);
        for (int d = 0; d < Config.Directions; d++)
        {
            Slice h = Config.ManyToOne ? Buffers.Final[top, d].All : Buffers.Outputs(top, d);
            var spec = new GemmSpec(false, true, rows, o, s, 1f, d == 0 ? 0f : 1f, s, Config.LayerOutputSize, o);
            var wd = w.Sub(d * s, w.Length - d * s);
            // The bias comes with the last direction's product.
            if (quantized is not null) Accelerator.Gemm(spec, h, quantized, d * s, output, d == Config.Directions - 1 ? Model.Parameter(ParameterLayout.HeadBias) : default);
            else if (d == Config.Directions - 1) Accelerator.Gemm(spec, h, wd, output, Model.Parameter(ParameterLayout.HeadBias));
            else Accelerator.Gemm(spec, h, wd, output);
        }
    }
}
