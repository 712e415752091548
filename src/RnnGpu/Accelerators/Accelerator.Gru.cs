namespace RnnGpu.Accelerators;

/// <summary>
/// The GRU's recurrence (PyTorch nn.GRU, gates in row blocks r, z, n), one call per layer and direction over a packed batch
/// (the layout of <see cref="RnnRecurrenceForward"/>). b_hh stays apart from the input projection: its n block is
/// multiplied by r. The default implementations go step by step: one product per step and segment
/// (<see cref="PackedSteps"/>), then the gate kernel (<see cref="GruPointwiseForwardCore"/>).
/// </summary>
public abstract partial class Accelerator
{
    /// <summary>
    /// With a = h_prev W_hh^T + b_hh [rows, 3H]: r = σ(gates_r + a_r), z = σ(gates_z + a_z), n = tanh(gates_n + r ⊙ a_n),
    /// h_t = (1 - z) ⊙ n + z ⊙ h_prev. gates: [rows, 3H], x W_ih^T + b_ih on entry, r, z, n on return; hn: [rows, H] out,
    /// a_n (BPTT reads it); states: [rows, H] out, h_t; h0: [stepRows[0], H]; wHh: [3H, H]; bHh: [3H]; scratch:
    /// [stepRows[0], 3H], left undefined.
    /// </summary>
    public void GruRecurrenceForward(ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, Slice bHh, Slice gates, Slice hn, Slice states,
        Slice scratch, bool reverse = false) =>
        GruRecurrenceForward(stepRows, hidden, h0, wHh, bHh, gates, hn, states, scratch, reverse, quantized: null);

    /// <summary>The checks of both forms; <paramref name="quantized"/>: W_hh quantized (wHh its float32 values).</summary>
    private void GruRecurrenceForward(ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, Slice bHh, Slice gates, Slice hn, Slice states,
        Slice scratch, bool reverse, QuantizedMatrix? quantized)
    {
        var (rows, _) = CheckGated(stepRows, hidden, 0, gateCount: 3);
        if (rows == 0 || hidden == 0) return;
        long b0 = stepRows[0];
        Check(h0, b0 * hidden, nameof(h0));
        Check(wHh, 3L * hidden * hidden, nameof(wHh));
        Check(bHh, 3L * hidden, nameof(bHh));
        Check(gates, rows * 3 * hidden, nameof(gates));
        Check(hn, rows * hidden, nameof(hn));
        Check(states, rows * hidden, nameof(states));
        Check(scratch, b0 * 3 * hidden, nameof(scratch));
        CheckOutputsApart([(gates, nameof(gates)), (hn, nameof(hn)), (states, nameof(states)), (scratch, nameof(scratch))],
            [(h0, nameof(h0)), (wHh, nameof(wHh)), (bHh, nameof(bHh))]);
        if (quantized is null) GruRecurrenceForwardCore(stepRows, hidden, h0, wHh, bHh, gates, hn, states, scratch, reverse);
        else QuantizedGruRecurrenceForwardCore(stepRows, hidden, h0, quantized, bHh, gates, hn, states, scratch, reverse);
    }

    /// <summary>
    /// BPTT through <see cref="GruRecurrenceForward"/>, against the order of its steps. dStates: [rows, H], dL/dh_t from above
    /// on entry, the whole dL/dh_t on return; dGates: [rows, 3H] out, dL/d(x W_ih^T + b_ih) (for dW_ih and db_ih);
    /// dGatesHidden: [rows, 3H] out, dL/da (for dW_hh and db_hh: the n block times r); dh: [stepRows[0], H], dL/d(final
    /// state) on entry, dL/dh0 on return. The rest as the forward call left it.
    /// </summary>
    public void GruRecurrenceBackward(ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, Slice gates, Slice hn, Slice states, Slice dStates,
        Slice dGates, Slice dGatesHidden, Slice dh, bool reverse = false)
    {
        var (rows, _) = CheckGated(stepRows, hidden, 0, gateCount: 3);
        if (rows == 0 || hidden == 0) return;
        long b0 = stepRows[0];
        Check(h0, b0 * hidden, nameof(h0));
        Check(wHh, 3L * hidden * hidden, nameof(wHh));
        Check(gates, rows * 3 * hidden, nameof(gates));
        Check(hn, rows * hidden, nameof(hn));
        Check(states, rows * hidden, nameof(states));
        Check(dStates, rows * hidden, nameof(dStates));
        Check(dGates, rows * 3 * hidden, nameof(dGates));
        Check(dGatesHidden, rows * 3 * hidden, nameof(dGatesHidden));
        Check(dh, b0 * hidden, nameof(dh));
        CheckOutputsApart([(dStates, nameof(dStates)), (dGates, nameof(dGates)), (dGatesHidden, nameof(dGatesHidden)), (dh, nameof(dh))],
            [(h0, nameof(h0)), (wHh, nameof(wHh)), (gates, nameof(gates)), (hn, nameof(hn)), (states, nameof(states))]);
        GruRecurrenceBackwardCore(stepRows, hidden, h0, wHh, gates, hn, states, dStates, dGates, dGatesHidden, dh, reverse);
    }

    protected virtual void GruRecurrenceForwardCore(ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, Slice bHh, Slice gates, Slice hn,
        Slice states, Slice scratch, bool reverse) =>
        GruStepwiseForward(stepRows, hidden, h0, wHh, null, bHh, gates, hn, states, scratch, reverse);

    /// <summary>Step by step: the recurrent product of each step with b_hh (W_hh float32, or quantized when qHh is given), then its gates.</summary>
    private void GruStepwiseForward(ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, QuantizedMatrix? qHh, Slice bHh, Slice gates, Slice hn,
        Slice states, Slice scratch, bool reverse)
    {
        int g = 3 * hidden;
        var steps = new PackedSteps(stepRows, stepRows.Length <= 1024 ? stackalloc long[stepRows.Length] : new long[stepRows.Length], reverse);
        Span<PackedSteps.Segment> segments = stackalloc PackedSteps.Segment[2];
        for (int i = 0; i < steps.Time; i++)
        {
            int t = steps.StepAt(i);
            long row = steps.FirstRow(t);
            foreach (var seg in segments[..steps.Segments(t, segments)])
            {
                long first = row + seg.First, source = seg.FromInitial ? seg.First : steps.FirstRow(seg.Source) + seg.First, n = (long)seg.Count * hidden;
                var hPrev = (seg.FromInitial ? h0 : states).Sub(source * hidden, n);
                var a = scratch.Sub(0, (long)seg.Count * g);
                WeightProduct(GemmSpec.Dense(false, true, seg.Count, g, hidden), hPrev, wHh, qHh, a, bHh);
                GruPointwiseForwardCore(seg.Count, hidden, gates.Sub(first * g, (long)seg.Count * g), a, hPrev, states.Sub(first * hidden, n), hn.Sub(first * hidden, n));
            }
        }
    }

    protected virtual void GruRecurrenceBackwardCore(ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, Slice gates, Slice hn, Slice states,
        Slice dStates, Slice dGates, Slice dGatesHidden, Slice dh, bool reverse)
    {
        int g = 3 * hidden;
        var steps = new PackedSteps(stepRows, stepRows.Length <= 1024 ? stackalloc long[stepRows.Length] : new long[stepRows.Length], reverse);
        AddFinalGradients(steps, hidden, dh, dStates);
        Span<PackedSteps.Segment> segments = stackalloc PackedSteps.Segment[2];
        for (int i = steps.Time - 1; i >= 0; i--)
        {
            int t = steps.StepAt(i);
            long row = steps.FirstRow(t);
            foreach (var seg in segments[..steps.Segments(t, segments)])
            {
                long first = row + seg.First, source = seg.FromInitial ? seg.First : steps.FirstRow(seg.Source) + seg.First, n = (long)seg.Count * hidden;
                var hPrev = (seg.FromInitial ? h0 : states).Sub(source * hidden, n);
                var dHidden = dGatesHidden.Sub(first * g, (long)seg.Count * g);
                // dL/dh_prev = dh ⊙ z + dGatesHidden W_hh: into the previous step's whole gradient, or dL/dh0.
                var dhPrev = (seg.FromInitial ? dh : dStates).Sub(source * hidden, n);
                GruPointwiseBackwardCore(seg.Count, hidden, gates.Sub(first * g, (long)seg.Count * g), hn.Sub(first * hidden, n), hPrev,
                    dStates.Sub(first * hidden, n), dGates.Sub(first * g, (long)seg.Count * g), dHidden, dhPrev, accumulate: !seg.FromInitial);
                GemmCore(GemmSpec.Dense(false, false, seg.Count, hidden, g, 1f, 1f), dHidden, wHh, dhPrev);
            }
        }
    }

    /// <summary>
    /// One GRU step after its product, row by row: gates [batch, 3H] input projections in, r, z, n out; a [batch, 3H] the
    /// recurrent projection with b_hh; hPrev, h, hn [batch, H]: h = (1 - z) n + z hPrev, hn = a_n.
    /// </summary>
    protected abstract void GruPointwiseForwardCore(int batch, int hidden, Slice gates, Slice a, Slice hPrev, Slice h, Slice hn);

    /// <summary>
    /// The step's gate gradients from dh = dL/dh_t [batch, H]: with dn' = dh (1-z)(1-n²), dr' = dn' hn r(1-r),
    /// dz' = dh (hPrev - n) z(1-z): dGates = [dr', dz', dn'], dGatesHidden = [dr', dz', dn' r] [batch, 3H]; dhPrev
    /// [batch, H] = dh z, added to what it holds when <paramref name="accumulate"/>.
    /// </summary>
    protected abstract void GruPointwiseBackwardCore(int batch, int hidden, Slice gates, Slice hn, Slice hPrev, Slice dh, Slice dGates, Slice dGatesHidden,
        Slice dhPrev, bool accumulate);
}
