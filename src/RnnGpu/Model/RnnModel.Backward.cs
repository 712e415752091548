using RnnGpu.Accelerators;

namespace RnnGpu.Model;

public sealed partial class RnnModel
{
    /// <summary>
    /// Backpropagation through time over a workspace after <see cref="ForwardDevice"/> and a loss that
    /// wrote dL/dy where BPTT reads it (DHeadOutput, or the top layer's DStates without a head).
    /// <paramref name="finalStateGradient"/> [L * D, B, H] (caller's order) adds dL/d(final state), as a
    /// decoder hands back to its encoder; zeros when null. Overwrites <see cref="Gradients"/>, DInitialState and (when asked) DInput. Per layer and direction:
    /// one fused launch per step, over only the sequences running at that step, then each weight gradient
    /// as one GEMM over all steps and the bias gradients as one column sum.
    /// </summary>
    internal void BackwardDevice(RnnWorkspace ws, bool inputGradient, bool dropout, Tensor? finalStateGradient = null)
    {
        var bw = ws.Backward;
        int rows = ws.Layout.Rows, hidden = Config.HiddenSize, top = Config.NumLayers - 1;
        SetFinalGradient(ws, finalStateGradient);
        if (bw.DHeadOutput is { } dY) HeadBackward(ws, dY);

        for (int l = top; l >= 0; l--)
        {
            for (int d = 0; d < Config.Directions; d++)
            {
                if (d == 0) RecurForwardBackward(ws, l);
                else RecurReverseBackward(ws, l);
                WeightGradients(ws, l, d, dropout);
            }
            if (l == 0 && !inputGradient) continue;
            // The gradient of each part of this layer's input: dx_part = Σ_d dPre_d W_ih,d[:, part].
            int inSize = Config.LayerInputSize(l);
            for (int part = 0; part < LayerInputParts(l); part++)
            {
                var (_, width, column) = LayerInput(ws, l, part, dropout);
                Slice dx = l > 0 ? bw.DStates[l - 1, part].Slice(0, (long)rows * width) : bw.DInput.Slice(0, (long)rows * width);
                for (int d = 0; d < Config.Directions; d++)
                {
                    var w = Parameter(ParameterLayout.WeightIh(l, d));
                    var spec = new GemmSpec(false, false, rows, width, hidden, 1f, d == 0 ? 0f : 1f, hidden, inSize, width);
                    Accelerator.Gemm(spec, DPre(ws, l, d), w.Sub(column, w.Length - column), dx);
                }
                if (l > 0 && dropout && Config.Dropout > 0)
                    Accelerator.Multiply(dx, ws.Mask(l - 1, part).Slice(0, dx.Length), dx);
            }
        }
    }

    private void SetFinalGradient(RnnWorkspace ws, Tensor? gradient)
    {
        var bw = ws.Backward;
        int groups = Config.NumLayers * Config.Directions;
        float[]? sorted = null;
        if (gradient is not null)
        {
            if (!gradient.Shape.AsSpan().SequenceEqual(StateShape(ws.Batch)))
                throw new ShapeException($"final-state gradient has shape {gradient.ShapeText}, expected [{string.Join(", ", StateShape(ws.Batch))}]");
            CheckFinite(gradient, "final-state gradient");
            sorted = ws.Layout.SortRows(gradient.Data, groups, Config.HiddenSize, toSorted: true);
        }
        for (int l = 0; l < Config.NumLayers; l++)
        for (int d = 0; d < Config.Directions; d++)
        {
            if (sorted is null) Accelerator.Fill(bw.DFinal[l, d], 0f);
            else Accelerator.CopyIn(sorted.AsSpan((int)((l * Config.Directions + d) * ws.StepSize), (int)ws.StepSize), bw.DFinal[l, d]);
        }
    }

    private Slice DPre(RnnWorkspace ws, int l, int d) => ws.Backward.DStates[l, d].Slice(0, (long)ws.Layout.Rows * Config.HiddenSize);

    /// <summary>
    /// dW_o[:, d] = dY^T h_d, db_o = Σ dY, and dL/dh_d = dY W_o[:, d] into the top layer's DStates
    /// (every step) or DFinal (many-to-one, whose steps then get no gradient from the head).
    /// </summary>
    private void HeadBackward(RnnWorkspace ws, DeviceBuffer dYBuffer)
    {
        var bw = ws.Backward;
        int o = Config.OutputSize, hidden = Config.HiddenSize, top = Config.NumLayers - 1, width = Config.LayerOutputSize;
        int rows = Config.ManyToOne ? ws.Batch : ws.Layout.Rows;
        var dY = dYBuffer.Slice(0, (long)rows * o);
        var w = Parameter(ParameterLayout.HeadWeight);
        var dW = Gradient(ParameterLayout.HeadWeight);
        for (int d = 0; d < Config.Directions; d++)
        {
            Slice h = Config.ManyToOne ? ws.Final[top, d].All : ws.Outputs(top, d);
            Accelerator.Gemm(new GemmSpec(true, false, o, hidden, rows, 1f, 0f, o, hidden, width), dY, h, dW.Sub(d * hidden, dW.Length - d * hidden));
            Slice dh = Config.ManyToOne ? bw.DFinal[top, d].All : DPre(ws, top, d);
            float beta = Config.ManyToOne ? 1f : 0f;   // many-to-one adds to any injected final-state gradient
            Accelerator.Gemm(new GemmSpec(false, false, rows, hidden, o, 1f, beta, o, width, hidden), dY, w.Sub(d * hidden, w.Length - d * hidden), dh);
            if (Config.ManyToOne) Accelerator.Fill(DPre(ws, top, d), 0f);
        }
        Accelerator.ColumnSum(rows, o, dY, Gradient(ParameterLayout.HeadBias), 0f);
    }

    /// <summary>
    /// Forward direction, backwards in time: one recurrence call from dL/d(final state) to dL/dh0, in place in the
    /// layer's slice of DInitialState (a row holds its final-state gradient until its sequence's last step).
    /// </summary>
    private void RecurForwardBackward(RnnWorkspace ws, int l)
    {
        var bw = ws.Backward;
        var layout = ws.Layout;
        int hidden = Config.HiddenSize, steps = RunningSteps(layout);
        var dh = bw.DInitialState.Slice(l * Config.Directions * ws.StepSize, ws.StepSize);
        Accelerator.Copy(bw.DFinal[l, 0], dh);
        if (steps == 0) return;
        long n = (long)layout.BatchSizes[0] * hidden;
        Accelerator.RnnRecurrenceBackward(Config.Nonlinearity, layout.BatchSizes.AsSpan(0, steps), hidden, ws.Outputs(l, 0),
            Parameter(ParameterLayout.WeightHh(l, 0)), DPre(ws, l, 0), dh.Sub(0, n), bw.DhA.Slice(0, n));
    }

    /// <summary>
    /// Reverse direction, forwards in time: one recurrence call, in place in the layer's slice of DInitialState. Every
    /// sequence's final state is at step 0; sequences with no step pass dL/d(final state) straight to dL/dh0.
    /// </summary>
    private void RecurReverseBackward(RnnWorkspace ws, int l)
    {
        var bw = ws.Backward;
        var layout = ws.Layout;
        int hidden = Config.HiddenSize, steps = RunningSteps(layout);
        var dh = bw.DInitialState.Slice((l * Config.Directions + 1) * ws.StepSize, ws.StepSize);
        Accelerator.Copy(bw.DFinal[l, 1], dh);
        if (steps == 0) return;
        long n = (long)layout.BatchSizes[0] * hidden;
        Accelerator.RnnRecurrenceBackward(Config.Nonlinearity, layout.BatchSizes.AsSpan(0, steps), hidden, ws.Outputs(l, 1),
            Parameter(ParameterLayout.WeightHh(l, 1)), DPre(ws, l, 1), dh.Sub(0, n), bw.DhA.Slice(0, n), reverse: true);
    }

    /// <summary>dW_hh = dPre^T h_prev, dW_ih[:, part] = dPre^T x_part, db_ih = db_hh = Σ dPre, each over all rows at once.</summary>
    private void WeightGradients(RnnWorkspace ws, int l, int d, bool dropout)
    {
        int rows = ws.Layout.Rows, hidden = Config.HiddenSize, inSize = Config.LayerInputSize(l);
        var dPre = DPre(ws, l, d);
        if (!ws.Layout.Uniform) GatherPrevious(ws, l, d);
        Accelerator.Gemm(GemmSpec.Dense(true, false, hidden, hidden, rows), dPre, ws.Previous(l, d), Gradient(ParameterLayout.WeightHh(l, d)));
        var dW = Gradient(ParameterLayout.WeightIh(l, d));
        for (int part = 0; part < LayerInputParts(l); part++)
        {
            var (x, width, column) = LayerInput(ws, l, part, dropout);
            Accelerator.Gemm(new GemmSpec(true, false, hidden, width, rows, 1f, 0f, hidden, width, inSize), dPre, x, dW.Sub(column, dW.Length - column));
        }
        Accelerator.ColumnSum(rows, hidden, dPre, Gradient(ParameterLayout.BiasIh(l, d)), 0f);
        Accelerator.Copy(Gradient(ParameterLayout.BiasIh(l, d)), Gradient(ParameterLayout.BiasHh(l, d)));
    }

    /// <summary>
    /// The state each row's step started from, packed like the outputs, for dW_hh: forwards step t - 1's rows (h0 for
    /// step 0); in reverse step t + 1's rows for the sequences that reach it and h0's for those whose last step is t.
    /// </summary>
    private void GatherPrevious(RnnWorkspace ws, int l, int d)
    {
        var layout = ws.Layout;
        int hidden = Config.HiddenSize;
        for (int t = 0; t < layout.Time && layout.BatchSizes[t] > 0; t++)
        {
            int bt = layout.BatchSizes[t];
            var previous = ws.PreviousBuffer(l, d).Slice((long)layout.Offsets[t] * hidden, (long)bt * hidden);
            if (d == 0)
            {
                Accelerator.Copy(t == 0 ? ws.Initial(l, 0, 0, bt) : ws.Step(l, 0, t - 1, bt), previous);
                continue;
            }
            int next = layout.BatchSize(t + 1);
            if (next > 0) Accelerator.Copy(ws.Step(l, 1, t + 1, next), previous.Sub(0, (long)next * hidden));
            Accelerator.Copy(ws.Initial(l, 1, next, bt - next), previous.Sub((long)next * hidden, (long)(bt - next) * hidden));
        }
    }
}
