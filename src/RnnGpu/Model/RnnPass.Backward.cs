using RnnGpu.Accelerators;

namespace RnnGpu.Model;

internal sealed partial class RnnPass
{
    /// <summary>
    /// Backpropagation through time after <see cref="Forward"/> and a loss that wrote dL/dy where BPTT reads it
    /// (DHeadOutput, or the top layer's DStates without a head). <paramref name="finalStateGradient"/> [L * D, B, S] and,
    /// for an LSTM, <paramref name="finalCellGradient"/> [L * D, B, H] (caller's order) add dL/d(final state), as a decoder
    /// hands back to its encoder; zeros when null. Overwrites the model's Gradients, DInitialState (and DInitialCell) and,
    /// when asked, DInput. Per layer and direction: the cell's recurrence backwards as one call, then each weight gradient
    /// as one GEMM over all steps and the bias gradients as one column sum.
    /// </summary>
    public void Backward(bool inputGradient, bool dropout, Tensor? finalStateGradient = null, Tensor? finalCellGradient = null)
    {
        Model.CheckFloat32("training (backpropagation)");
        var bw = Buffers.Backward;
        int rows = Layout.Rows, gates = Config.GateWidth, top = Config.NumLayers - 1, steps = RunningSteps(Layout);
        if (finalCellGradient is not null && !Config.HasCellState)
            throw new ShapeException($"a final cell-state gradient was given, but a {Config.Cell.ToName()} model has no cell state");
        CopyStates(Sorted(finalStateGradient, Model.StateShape(Batch), "final-state gradient", Config.StateSize), Config.StateSize,
            (l, d) => bw.DFinal[l, d]);
        if (Config.HasCellState)
            CopyStates(Sorted(finalCellGradient, Model.CellStateShape(Batch), "final cell-state gradient", Config.HiddenSize), Config.HiddenSize,
                (l, d) => bw.DFinalCell(l, d));
        if (bw.DHeadOutput is { } dY) HeadBackward(dY);

        for (int l = top; l >= 0; l--)
        {
            for (int d = 0; d < Config.Directions; d++)
            {
                var dh = bw.DInitialState.Slice((l * Config.Directions + d) * Buffers.StepSize, Buffers.StepSize);
                Accelerator.Copy(bw.DFinal[l, d], dh);
                if (Config.HasCellState) Accelerator.Copy(bw.DFinalCell(l, d), DCell(l, d));
                if (steps > 0) Cell.Backward(this, l, d, Layout.BatchSizes.AsSpan(0, steps), dh);
                WeightGradients(l, d, dropout);
            }
            if (l == 0 && !inputGradient) continue;
            // The gradient of each part of this layer's input: dx_part = Σ_d dPre_d W_ih,d[:, part].
            int inSize = Config.LayerInputSize(l);
            for (int part = 0; part < LayerInputParts(l); part++)
            {
                var (_, width, column) = LayerInput(l, part, dropout);
                Slice dx = l > 0 ? bw.DStates[l - 1, part].Slice(0, (long)rows * width) : bw.DInput.Slice(0, (long)rows * width);
                for (int d = 0; d < Config.Directions; d++)
                {
                    var w = Model.Parameter(ParameterLayout.WeightIh(l, d));
                    var spec = new GemmSpec(false, false, rows, width, gates, 1f, d == 0 ? 0f : 1f, gates, inSize, width);
                    Accelerator.Gemm(spec, Cell.InputGradient(this, l, d), w.Sub(column, w.Length - column), dx);
                }
                if (l > 0 && dropout && Config.Dropout > 0)
                    Accelerator.Multiply(dx, Buffers.Mask(l - 1, part).Slice(0, dx.Length), dx);
            }
        }
    }

    /// <summary>
    /// dW_o[:, d] = dY^T h_d, db_o = Σ dY, and dL/dh_d = dY W_o[:, d] into the top layer's DStates
    /// (every step) or DFinal (many-to-one, whose steps then get no gradient from the head).
    /// </summary>
    private void HeadBackward(DeviceBuffer dYBuffer)
    {
        var bw = Buffers.Backward;
        int o = Config.OutputSize, s = Config.StateSize, top = Config.NumLayers - 1, width = Config.LayerOutputSize;
        int rows = Config.ManyToOne ? Batch : Layout.Rows;
        var dY = dYBuffer.Slice(0, (long)rows * o);
        var w = Model.Parameter(ParameterLayout.HeadWeight);
        var dW = Model.Gradient(ParameterLayout.HeadWeight);
        for (int d = 0; d < Config.Directions; d++)
        {
            Slice h = Config.ManyToOne ? Buffers.Final[top, d].All : Buffers.Outputs(top, d);
            Accelerator.Gemm(new GemmSpec(true, false, o, s, rows, 1f, 0f, o, s, width), dY, h, dW.Sub(d * s, dW.Length - d * s));
            Slice dh = Config.ManyToOne ? bw.DFinal[top, d].All : DStates(top, d);
            float beta = Config.ManyToOne ? 1f : 0f;   // many-to-one adds to any injected final-state gradient
            Accelerator.Gemm(new GemmSpec(false, false, rows, s, o, 1f, beta, o, width, s), dY, w.Sub(d * s, w.Length - d * s), dh);
            if (Config.ManyToOne) Accelerator.Fill(DStates(top, d), 0f);
        }
        Accelerator.ColumnSum(rows, o, dY, Model.Gradient(ParameterLayout.HeadBias), 0f);
    }

    /// <summary>
    /// dW_hh = dRec^T h_prev, dW_ih[:, part] = dPre^T x_part, db_ih = Σ dPre, db_hh = Σ dRec, each over all rows at once
    /// (dPre, dRec: the cell's gradients of its input and recurrent projections, one and the same but for a GRU); then the
    /// cell's own weights.
    /// </summary>
    private void WeightGradients(int l, int d, bool dropout)
    {
        int rows = Layout.Rows, gates = Config.GateWidth, s = Config.StateSize, inSize = Config.LayerInputSize(l);
        Slice dPre = Cell.InputGradient(this, l, d), dRec = Cell.HiddenGradient(this, l, d);
        if (!Layout.Uniform) GatherPrevious(l, d);
        Accelerator.Gemm(GemmSpec.Dense(true, false, gates, s, rows), dRec, Buffers.Previous(l, d), Model.Gradient(ParameterLayout.WeightHh(l, d)));
        var dW = Model.Gradient(ParameterLayout.WeightIh(l, d));
        for (int part = 0; part < LayerInputParts(l); part++)
        {
            var (x, width, column) = LayerInput(l, part, dropout);
            Accelerator.Gemm(new GemmSpec(true, false, gates, width, rows, 1f, 0f, gates, width, inSize), dPre, x, dW.Sub(column, dW.Length - column));
        }
        Accelerator.ColumnSum(rows, gates, dPre, Model.Gradient(ParameterLayout.BiasIh(l, d)), 0f);
        if (dRec == dPre) Accelerator.Copy(Model.Gradient(ParameterLayout.BiasIh(l, d)), Model.Gradient(ParameterLayout.BiasHh(l, d)));
        else Accelerator.ColumnSum(rows, gates, dRec, Model.Gradient(ParameterLayout.BiasHh(l, d)), 0f);
        Cell.OwnWeightGradients(this, l, d);
    }

    /// <summary>
    /// The state each row's step started from, packed like the outputs, for dW_hh: forwards step t - 1's rows (h0 for
    /// step 0); in reverse step t + 1's rows for the sequences that reach it and h0's for those whose last step is t.
    /// </summary>
    private void GatherPrevious(int l, int d)
    {
        var ws = Buffers;
        int s = Config.StateSize;
        for (int t = 0; t < Layout.Time && Layout.BatchSizes[t] > 0; t++)
        {
            int bt = Layout.BatchSizes[t];
            var previous = ws.PreviousBuffer(l, d).Slice((long)Layout.Offsets[t] * s, (long)bt * s);
            if (d == 0)
            {
                Accelerator.Copy(t == 0 ? ws.Initial(l, 0, 0, bt) : ws.Step(l, 0, t - 1, bt), previous);
                continue;
            }
            int next = Layout.BatchSize(t + 1);
            if (next > 0) Accelerator.Copy(ws.Step(l, 1, t + 1, next), previous.Sub(0, (long)next * s));
            Accelerator.Copy(ws.Initial(l, 1, next, bt - next), previous.Sub((long)next * s, (long)(bt - next) * s));
        }
    }
}
