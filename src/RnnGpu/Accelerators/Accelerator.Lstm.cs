namespace RnnGpu.Accelerators;

/// <summary>
/// The LSTM's recurrence (PyTorch nn.LSTM, gates in row blocks i, f, g, o), one call per layer and direction over a packed
/// batch (the layout of <see cref="RnnRecurrenceForward"/>). H is the hidden size, S the state size: the projection's
/// P when <c>proj</c> > 0 (h_t = W_hr (o ⊙ tanh c_t)), else H. The default implementations go step by step: one
/// product per step and segment (<see cref="PackedSteps"/>), then the gate kernel (<see cref="LstmPointwiseForwardCore"/>).
/// </summary>
public abstract partial class Accelerator
{
    /// <summary>
    /// gates_t += h_prev W_hh^T; i, f, o = σ, g = tanh; c_t = f ⊙ c_prev + i ⊙ g; h_t = o ⊙ tanh(c_t), projected by W_hr
    /// when <paramref name="proj"/> > 0. gates: [rows, 4H], the input projection with both biases on entry, the activated
    /// gates on return (BPTT reads them); cells: [rows, H] out, c_t; cellOutputs: [rows, H] out, o ⊙ tanh(c_t) before the
    /// projection (only with one; else unused and may be empty); states: [rows, S] out, h_t. h0: [stepRows[0], S];
    /// c0: [stepRows[0], H]; wHh: [4H, S]; wHr: [P, H] (unused without a projection).
    /// </summary>
    public void LstmRecurrenceForward(ReadOnlySpan<int> stepRows, int hidden, int proj, Slice h0, Slice c0, Slice wHh, Slice wHr,
        Slice gates, Slice cells, Slice cellOutputs, Slice states, bool reverse = false) =>
        LstmRecurrenceForward(stepRows, hidden, proj, h0, c0, wHh, wHr, gates, cells, cellOutputs, states, reverse, null, null);

    /// <summary>The checks of both forms; <paramref name="quantizedHh"/> (and <paramref name="quantizedHr"/>): the weights quantized, wHh and wHr their float32 values.</summary>
    private void LstmRecurrenceForward(ReadOnlySpan<int> stepRows, int hidden, int proj, Slice h0, Slice c0, Slice wHh, Slice wHr,
        Slice gates, Slice cells, Slice cellOutputs, Slice states, bool reverse, QuantizedMatrix? quantizedHh, QuantizedMatrix? quantizedHr)
    {
        var (rows, s) = CheckGated(stepRows, hidden, proj, gateCount: 4);
        if (rows == 0 || hidden == 0) return;
        long b0 = stepRows[0];
        Check(h0, b0 * s, nameof(h0));
        Check(c0, b0 * hidden, nameof(c0));
        Check(wHh, 4L * hidden * s, nameof(wHh));
        if (proj > 0) Check(wHr, (long)proj * hidden, nameof(wHr));
        Check(gates, rows * 4 * hidden, nameof(gates));
        Check(cells, rows * hidden, nameof(cells));
        if (proj > 0) Check(cellOutputs, rows * hidden, nameof(cellOutputs));
        Check(states, rows * s, nameof(states));
        // Spans on the stack: a stream's step allocates nothing.
        if (proj > 0)
            CheckOutputsApart([(gates, nameof(gates)), (cells, nameof(cells)), (states, nameof(states)), (cellOutputs, nameof(cellOutputs))],
                [(h0, nameof(h0)), (c0, nameof(c0)), (wHh, nameof(wHh)), (wHr, nameof(wHr))]);
        else CheckOutputsApart([(gates, nameof(gates)), (cells, nameof(cells)), (states, nameof(states))], [(h0, nameof(h0)), (c0, nameof(c0)), (wHh, nameof(wHh))]);
        if (quantizedHh is null) LstmRecurrenceForwardCore(stepRows, hidden, proj, h0, c0, wHh, wHr, gates, cells, cellOutputs, states, reverse);
        else QuantizedLstmRecurrenceForwardCore(stepRows, hidden, proj, h0, c0, quantizedHh, quantizedHr, gates, cells, cellOutputs, states, reverse);
    }

    /// <summary>
    /// BPTT through <see cref="LstmRecurrenceForward"/>, against the order of its steps. dStates: [rows, S], dL/dh_t from
    /// above on entry, the whole dL/dh_t (from above, the next step and the final state) on return, for dW_hr; dGates:
    /// [rows, 4H] out, dL/d(gate pre-activations) (the same for both biases, dW_ih and dW_hh); dh: [stepRows[0], S] and dc:
    /// [stepRows[0], H], dL/d(final h and c) on entry (zeros when nothing reads them), dL/dh0 and dL/dc0 on return;
    /// scratch: [stepRows[0], H] (dL/d(o ⊙ tanh c) with a projection), left undefined. The rest as the forward call left it.
    /// </summary>
    public void LstmRecurrenceBackward(ReadOnlySpan<int> stepRows, int hidden, int proj, Slice c0, Slice wHh, Slice wHr,
        Slice gates, Slice cells, Slice dStates, Slice dGates, Slice dh, Slice dc, Slice scratch, bool reverse = false)
    {
        var (rows, s) = CheckGated(stepRows, hidden, proj, gateCount: 4);
        if (rows == 0 || hidden == 0) return;
        long b0 = stepRows[0];
        Check(c0, b0 * hidden, nameof(c0));
        Check(wHh, 4L * hidden * s, nameof(wHh));
        if (proj > 0) Check(wHr, (long)proj * hidden, nameof(wHr));
        Check(gates, rows * 4 * hidden, nameof(gates));
        Check(cells, rows * hidden, nameof(cells));
        Check(dStates, rows * s, nameof(dStates));
        Check(dGates, rows * 4 * hidden, nameof(dGates));
        Check(dh, b0 * s, nameof(dh));
        Check(dc, b0 * hidden, nameof(dc));
        if (proj > 0) Check(scratch, b0 * hidden, nameof(scratch));
        if (proj > 0)
            CheckOutputsApart([(dStates, nameof(dStates)), (dGates, nameof(dGates)), (dh, nameof(dh)), (dc, nameof(dc)), (scratch, nameof(scratch))],
                [(c0, nameof(c0)), (wHh, nameof(wHh)), (gates, nameof(gates)), (cells, nameof(cells)), (wHr, nameof(wHr))]);
        else
            CheckOutputsApart([(dStates, nameof(dStates)), (dGates, nameof(dGates)), (dh, nameof(dh)), (dc, nameof(dc))],
                [(c0, nameof(c0)), (wHh, nameof(wHh)), (gates, nameof(gates)), (cells, nameof(cells))]);
        LstmRecurrenceBackwardCore(stepRows, hidden, proj, c0, wHh, wHr, gates, cells, dStates, dGates, dh, dc, scratch, reverse);
    }

    protected virtual void LstmRecurrenceForwardCore(ReadOnlySpan<int> stepRows, int hidden, int proj, Slice h0, Slice c0, Slice wHh, Slice wHr,
        Slice gates, Slice cells, Slice cellOutputs, Slice states, bool reverse) =>
        LstmStepwiseForward(stepRows, hidden, proj, h0, c0, wHh, null, wHr, null, gates, cells, cellOutputs, states, reverse);

    /// <summary>Step by step: the recurrent product of each step (W_hh float32, or quantized when qHh is given), then its gates.</summary>
    private void LstmStepwiseForward(ReadOnlySpan<int> stepRows, int hidden, int proj, Slice h0, Slice c0, Slice wHh, QuantizedMatrix? qHh,
        Slice wHr, QuantizedMatrix? qHr, Slice gates, Slice cells, Slice cellOutputs, Slice states, bool reverse)
    {
        int s = proj > 0 ? proj : hidden, g = 4 * hidden;
        var steps = new PackedSteps(stepRows, stepRows.Length <= 1024 ? stackalloc long[stepRows.Length] : new long[stepRows.Length], reverse);
        Span<PackedSteps.Segment> segments = stackalloc PackedSteps.Segment[2];
        for (int i = 0; i < steps.Time; i++)
        {
            int t = steps.StepAt(i), rows = steps.Rows(t);
            long row = steps.FirstRow(t);
            var m = proj > 0 ? cellOutputs : states;
            foreach (var seg in segments[..steps.Segments(t, segments)])
            {
                long first = row + seg.First, source = seg.FromInitial ? seg.First : steps.FirstRow(seg.Source) + seg.First;
                var hPrev = (seg.FromInitial ? h0 : states).Sub(source * s, (long)seg.Count * s);
                var cPrev = (seg.FromInitial ? c0 : cells).Sub(source * hidden, (long)seg.Count * hidden);
                var gateRows = gates.Sub(first * g, (long)seg.Count * g);
                WeightProduct(GemmSpec.Dense(false, true, seg.Count, g, s, 1f, 1f), hPrev, wHh, qHh, gateRows);
                LstmPointwiseForwardCore(seg.Count, hidden, gateRows, cPrev, cells.Sub(first * hidden, (long)seg.Count * hidden),
                    m.Sub(first * hidden, (long)seg.Count * hidden));
            }
            if (proj > 0)
                WeightProduct(GemmSpec.Dense(false, true, rows, proj, hidden), cellOutputs.Sub(row * hidden, (long)rows * hidden), wHr, qHr,
                    states.Sub(row * proj, (long)rows * proj));
        }
    }

    protected virtual void LstmRecurrenceBackwardCore(ReadOnlySpan<int> stepRows, int hidden, int proj, Slice c0, Slice wHh, Slice wHr,
        Slice gates, Slice cells, Slice dStates, Slice dGates, Slice dh, Slice dc, Slice scratch, bool reverse)
    {
        int s = proj > 0 ? proj : hidden, g = 4 * hidden;
        var steps = new PackedSteps(stepRows, stepRows.Length <= 1024 ? stackalloc long[stepRows.Length] : new long[stepRows.Length], reverse);
        AddFinalGradients(steps, s, dh, dStates);
        Span<PackedSteps.Segment> segments = stackalloc PackedSteps.Segment[2];
        for (int i = steps.Time - 1; i >= 0; i--)
        {
            int t = steps.StepAt(i), rows = steps.Rows(t);
            long row = steps.FirstRow(t);
            var dm = dStates;   // dL/d(o ⊙ tanh c): dL/dh itself without a projection
            long dmRow = row;
            if (proj > 0)
            {
                GemmCore(GemmSpec.Dense(false, false, rows, hidden, proj), dStates.Sub(row * proj, (long)rows * proj), wHr, scratch.Sub(0, (long)rows * hidden));
                (dm, dmRow) = (scratch, 0);
            }
            foreach (var seg in segments[..steps.Segments(t, segments)])
            {
                long first = row + seg.First, source = seg.FromInitial ? seg.First : steps.FirstRow(seg.Source) + seg.First;
                var cPrev = (seg.FromInitial ? c0 : cells).Sub(source * hidden, (long)seg.Count * hidden);
                var dGateRows = dGates.Sub(first * g, (long)seg.Count * g);
                LstmPointwiseBackwardCore(seg.Count, hidden, gates.Sub(first * g, (long)seg.Count * g), cPrev, cells.Sub(first * hidden, (long)seg.Count * hidden),
                    dm.Sub((dmRow + seg.First) * hidden, (long)seg.Count * hidden), dc.Sub((long)seg.First * hidden, (long)seg.Count * hidden), dGateRows);
                // dL/dh_prev = dGates W_hh: into the previous step's whole gradient, or dL/dh0.
                var dhPrev = (seg.FromInitial ? dh : dStates).Sub(source * s, (long)seg.Count * s);
                GemmCore(GemmSpec.Dense(false, false, seg.Count, s, g, 1f, seg.FromInitial ? 0f : 1f), dGateRows, wHh, dhPrev);
            }
        }
    }

    /// <summary>
    /// One LSTM step after its product, row by row: gates [batch, 4H] pre-activations in, i, f, g, o out; c = f ⊙ cPrev + i ⊙ g
    /// [batch, H]; m = o ⊙ tanh(c) [batch, H].
    /// </summary>
    protected abstract void LstmPointwiseForwardCore(int batch, int hidden, Slice gates, Slice cPrev, Slice c, Slice m);

    /// <summary>
    /// The step's gate gradients: gates (activated) [batch, 4H], cPrev and c [batch, H], dm = dL/d(o ⊙ tanh c) [batch, H];
    /// dc [batch, H] dL/dc from the next step in, dL/dc_prev out; dGates [batch, 4H] out. With dc' = dc + dm o (1 - tanh²c):
    /// di = dc' g i(1-i), df = dc' cPrev f(1-f), dg = dc' i (1-g²), do = dm tanh(c) o(1-o), dc_prev = dc' f.
    /// </summary>
    protected abstract void LstmPointwiseBackwardCore(int batch, int hidden, Slice gates, Slice cPrev, Slice c, Slice dm, Slice dc, Slice dGates);

    /// <summary>dStates at each sequence's last step += its dL/d(final state) (<see cref="PackedSteps.Ending"/>): BPTT then reads one gradient per step.</summary>
    private void AddFinalGradients(in PackedSteps steps, int width, Slice dFinal, Slice dStates)
    {
        for (int t = 0; t < steps.Time; t++)
        {
            var (first, count) = steps.Ending(t);
            if (count == 0) continue;
            long n = (long)count * width;
            AddBiasCore(1, checked((int)n), dFinal.Sub((long)first * width, n), dStates.Sub((steps.FirstRow(t) + first) * width, n));
        }
    }

    /// <summary>Checks the steps and sizes of a gated recurrence: its rows and state width.</summary>
    private static (long Rows, int StateSize) CheckGated(ReadOnlySpan<int> stepRows, int hidden, int proj, int gateCount)
    {
        CheckSizes(("hidden", hidden), ("proj", proj));
        if (proj > 0 && proj >= hidden) throw new ShapeException($"proj size {proj} must be smaller than the hidden size {hidden}");
        long rows = CheckStepRows(stepRows);
        _ = checked(rows * gateCount * hidden);
        return (rows, proj > 0 ? proj : hidden);
    }

    /// <summary>The outputs of a call overlap neither each other nor what it only reads.</summary>
    private static void CheckOutputsApart(ReadOnlySpan<(Slice Slice, string Name)> outputs, ReadOnlySpan<(Slice Slice, string Name)> inputs)
    {
        for (int i = 0; i < outputs.Length; i++)
        {
            CheckDisjoint(outputs[i].Slice, outputs[i].Name, inputs);
            CheckDisjoint(outputs[i].Slice, outputs[i].Name, outputs[(i + 1)..]);
        }
    }
}
