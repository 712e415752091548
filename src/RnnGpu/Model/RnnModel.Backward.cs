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
    /// Forward direction, backwards in time. Both ping-pong buffers start as dL/d(final state): a row
    /// is first written at its sequence's last step, so until then it still holds that gradient, which
    /// is exactly what its last step must add. What is left after step 0 is dL/dh0.
    /// </summary>
    private void RecurForwardBackward(RnnWorkspace ws, int l)
    {
        var bw = ws.Backward;
        var layout = ws.Layout;
        int hidden = Config.HiddenSize;
        var wHh = Parameter(ParameterLayout.WeightHh(l, 0));
        if (layout.Uniform && layout.Time > 0 && layout.BatchSizes[0] > 0)
        {
            // Every sequence runs every step: the time loop is one call, from dL/d(final state) to dL/dh0 in place.
            long n = (long)layout.BatchSizes[0] * hidden;
            var dh = bw.DInitialState.Slice(l * Config.Directions * ws.StepSize, ws.StepSize);
            Accelerator.Copy(bw.DFinal[l, 0], dh);
            Accelerator.RnnSequenceBackward(Config.Nonlinearity, layout.BatchSizes[0], hidden, layout.Time, ws.Outputs(l, 0), wHh, DPre(ws, l, 0),
                dh.Sub(0, n), bw.DhA.Slice(0, n));
            return;
        }
        DeviceBuffer dhNext = bw.DhA, dhPrev = bw.DhB;
        Accelerator.Copy(bw.DFinal[l, 0], dhNext);
        Accelerator.Copy(bw.DFinal[l, 0], dhPrev);
        for (int t = layout.Time - 1; t >= 0; t--)
        {
            int bt = layout.BatchSizes[t];
            if (bt == 0) continue;
            long n = (long)bt * hidden;
            Accelerator.RnnStepBackward(Config.Nonlinearity, bt, hidden, ws.Step(l, 0, t, bt), wHh, dhNext.Slice(0, n),
                DPre(ws, l, 0).Sub((long)layout.Offsets[t] * hidden, n), dhPrev.Slice(0, n));
            (dhNext, dhPrev) = (dhPrev, dhNext);
        }
        Accelerator.Copy(dhNext, bw.DInitialState.Slice(l * Config.Directions * ws.StepSize, ws.StepSize));
    }

    /// <summary>
    /// Reverse direction, forwards in time: step 0 holds the final state. At step t, the rows that
    /// started from h0 (the sequences whose last step is t) hand their gradient to dL/dh0; the others
    /// carry it to step t + 1. Sequences with no step pass dL/d(final state) straight to dL/dh0.
    /// </summary>
    private void RecurReverseBackward(RnnWorkspace ws, int l)
    {
        var bw = ws.Backward;
        var layout = ws.Layout;
        int hidden = Config.HiddenSize;
        var wHh = Parameter(ParameterLayout.WeightHh(l, 1));
        var dh0 = bw.DInitialState.Slice((l * Config.Directions + 1) * ws.StepSize, ws.StepSize);
        DeviceBuffer dhNext = bw.DhA, dhPrev = bw.DhB;
        Accelerator.Copy(bw.DFinal[l, 1], dhNext);
        int b0 = layout.BatchSize(0);
        if (b0 < ws.Batch)
            Accelerator.Copy(bw.DFinal[l, 1].Slice((long)b0 * hidden, (long)(ws.Batch - b0) * hidden), dh0.Sub((long)b0 * hidden, (long)(ws.Batch - b0) * hidden));
        if (layout.Uniform && layout.Time > 0 && b0 > 0)
        {
            long n = (long)b0 * hidden;
            Accelerator.Copy(bw.DFinal[l, 1].Slice(0, n), dh0.Sub(0, n));
            Accelerator.RnnSequenceBackward(Config.Nonlinearity, b0, hidden, layout.Time, ws.Outputs(l, 1), wHh, DPre(ws, l, 1),
                dh0.Sub(0, n), bw.DhA.Slice(0, n), reverse: true);
            return;
        }
        for (int t = 0; t < layout.Time; t++)
        {
            int bt = layout.BatchSizes[t], next = layout.BatchSize(t + 1);
            if (bt == 0) break;
            long n = (long)bt * hidden;
            Accelerator.RnnStepBackward(Config.Nonlinearity, bt, hidden, ws.Step(l, 1, t, bt), wHh, dhNext.Slice(0, n),
                DPre(ws, l, 1).Sub((long)layout.Offsets[t] * hidden, n), dhPrev.Slice(0, n));
            if (next < bt)
                Accelerator.Copy(dhPrev.Slice((long)next * hidden, (long)(bt - next) * hidden), dh0.Sub((long)next * hidden, (long)(bt - next) * hidden));
            (dhNext, dhPrev) = (dhPrev, dhNext);
        }
    }

    /// <summary>dW_hh = dPre^T h_prev, dW_ih[:, part] = dPre^T x_part, db_ih = db_hh = Σ dPre, each over all rows at once.</summary>
    private void WeightGradients(RnnWorkspace ws, int l, int d, bool dropout)
    {
        int rows = ws.Layout.Rows, hidden = Config.HiddenSize, inSize = Config.LayerInputSize(l);
        var dPre = DPre(ws, l, d);
        if (d == 0 && !ws.Layout.Uniform) GatherForwardPrevious(ws, l);
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
    /// The forward direction's starting state of every step, [Rows, H] packed like its outputs, for the weight
    /// gradient of a layout that is not uniform (each step starts from the first rows of the step before).
    /// Gathered here, not in the forward pass, so inference does not pay for it.
    /// </summary>
    private void GatherForwardPrevious(RnnWorkspace ws, int l)
    {
        var layout = ws.Layout;
        int hidden = Config.HiddenSize;
        for (int t = 0; t < layout.Time && layout.BatchSizes[t] > 0; t++)
        {
            int bt = layout.BatchSizes[t];
            Accelerator.Copy(t == 0 ? ws.Initial(l, 0, 0, bt) : ws.Step(l, 0, t - 1, bt),
                ws.PreviousBuffer(l, 0).Slice((long)layout.Offsets[t] * hidden, (long)bt * hidden));
        }
    }
}
