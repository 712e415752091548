namespace RnnGpu.Accelerators;

/// <summary>
/// Whole-sequence recurrences: the time loop of one layer as one call, in either direction, over a batch whose
/// sequences may have different lengths (the packed layout: sorted longest first, step t running the first rows_t
/// sequences; a uniform batch is just equal rows). One call per layer, so that a back end can run it as one job or
/// launch (the CPU's team keeps W_hh packed in its cores' caches; the ILGPU back end's persistent kernel keeps it on
/// chip). The default implementations go run by run of steps with equal rows through the uniform hooks, whose own
/// defaults loop over <see cref="RnnStepForwardCore"/> and <see cref="RnnStepBackwardCore"/>, so every back end
/// has them and computes exactly what the step-by-step loop does.
/// </summary>
public abstract partial class Accelerator
{
    /// <summary>
    /// The recurrence of one layer: h_t = act(pre_t + h_prev W_hh^T), in place. Step t's block of states holds its
    /// <paramref name="stepRows"/>[t] rows (non-increasing, at least 1) right after step t - 1's: pre_t on entry, h_t
    /// on return; states: [Σ stepRows, hidden]; h0: [stepRows[0], hidden]; wHh: [hidden, hidden].
    /// Forwards, step t's row r starts from step t - 1's row r (h0 for step 0). With <paramref name="reverse"/> (the
    /// reverse direction of a bidirectional layer) the steps run from the last to the first, and step t's row r starts
    /// from step t + 1's row r while that sequence reaches step t + 1, else from h0's row r.
    /// </summary>
    public void RnnRecurrenceForward(Activation act, ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, Slice states, bool reverse = false) =>
        RnnRecurrenceForward(act, stepRows, hidden, h0, wHh, states, reverse, quantized: null);

    /// <summary>The checks of both forms; <paramref name="quantized"/>: W_hh quantized (wHh its float32 values).</summary>
    private void RnnRecurrenceForward(Activation act, ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, Slice states, bool reverse,
        QuantizedMatrix? quantized)
    {
        CheckActivation(act);
        CheckSizes(("hidden", hidden));
        long rows = CheckStepRows(stepRows);
        if (rows == 0) return;
        Check(h0, (long)stepRows[0] * hidden, nameof(h0));
        Check(wHh, (long)hidden * hidden, nameof(wHh));
        Check(states, checked(rows * hidden), nameof(states));
        CheckDisjoint(states, nameof(states), (h0, nameof(h0)), (wHh, nameof(wHh)));
        if (hidden == 0) return;
        if (quantized is null) RnnRecurrenceForwardCore(act, stepRows, hidden, h0, wHh, states, reverse);
        else QuantizedRnnRecurrenceForwardCore(act, stepRows, hidden, h0, quantized, states, reverse);
    }

    /// <summary>
    /// BPTT through <see cref="RnnRecurrenceForward"/>, against the order of its steps: dPre_t = (dPre_t + dh_t) *
    /// act'(h_t), dh_prev = dPre_t W_hh. outputs: the forward pass's states (h); dPre: the same layout, dL/dh_t from
    /// the layer's output on entry, dL/dpre_t on return; dh: [stepRows[0], hidden], dL/d(final state) of each sequence
    /// on entry (zeros when nothing reads it; an encoder's gets one from its decoder), dL/dh0 on return; scratch:
    /// [stepRows[0], hidden] of working space, left undefined. A sequence's final state is its state at its last step
    /// forwards, at step 0 with <paramref name="reverse"/>.
    /// </summary>
    public void RnnRecurrenceBackward(Activation act, ReadOnlySpan<int> stepRows, int hidden, Slice outputs, Slice wHh, Slice dPre, Slice dh,
        Slice scratch, bool reverse = false)
    {
        CheckActivation(act);
        CheckSizes(("hidden", hidden));
        long rows = CheckStepRows(stepRows);
        if (rows == 0) return;
        long all = checked(rows * hidden), first = (long)stepRows[0] * hidden;
        Check(outputs, all, nameof(outputs));
        Check(wHh, (long)hidden * hidden, nameof(wHh));
        Check(dPre, all, nameof(dPre));
        Check(dh, first, nameof(dh));
        Check(scratch, first, nameof(scratch));
        CheckDisjoint(dPre, nameof(dPre), (outputs, nameof(outputs)), (wHh, nameof(wHh)), (dh, nameof(dh)), (scratch, nameof(scratch)));
        CheckDisjoint(dh, nameof(dh), (outputs, nameof(outputs)), (wHh, nameof(wHh)), (scratch, nameof(scratch)));
        CheckDisjoint(scratch, nameof(scratch), (outputs, nameof(outputs)), (wHh, nameof(wHh)));
        if (hidden == 0) return;
        RnnRecurrenceBackwardCore(act, stepRows, hidden, outputs, wHh, dPre, dh, scratch, reverse);
    }

    /// <summary>Every step runs at least one sequence and never more than the step before; the total rows.</summary>
    private static long CheckStepRows(ReadOnlySpan<int> stepRows)
    {
        long rows = 0;
        for (int t = 0; t < stepRows.Length; t++)
        {
            if (stepRows[t] < 1 || (t > 0 && stepRows[t] > stepRows[t - 1]))
                throw new ShapeException($"step {t} runs {stepRows[t]} sequences: packed steps must run at least one and never more than the step before");
            rows += stepRows[t];
        }
        return rows;
    }

    /// <summary>
    /// Run by run of steps with equal rows: each run is one <see cref="UniformRecurrenceForwardCore"/>. Forwards a run
    /// starts from the first rows of the block before it; in reverse, the run's first step starts partly from the
    /// block after it and partly from h0 (the sequences whose last step it is), so that step runs on its own, in two
    /// parts, and the rest of the run starts from it.
    /// </summary>
    protected virtual void RnnRecurrenceForwardCore(Activation act, ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, Slice states, bool reverse)
    {
        Span<long> offsets = stepRows.Length <= 256 ? stackalloc long[stepRows.Length] : new long[stepRows.Length];
        Offsets(stepRows, hidden, offsets);
        int time = stepRows.Length;
        if (!reverse)
        {
            for (int first = 0, end; first < time; first = end)
            {
                int rows = stepRows[first];
                for (end = first + 1; end < time && stepRows[end] == rows; end++) { }
                long size = (long)rows * hidden;
                var start = first == 0 ? h0.Sub(0, size) : states.Sub(offsets[first - 1], size);
                UniformRecurrenceForwardCore(act, rows, hidden, end - first, start, wHh, states.Sub(offsets[first], (end - first) * size), false);
            }
            return;
        }
        for (int last = time - 1, first; last >= 0; last = first - 1)
        {
            int rows = stepRows[last], next = last + 1 < time ? stepRows[last + 1] : 0;
            for (first = last; first > 0 && stepRows[first - 1] == rows; first--) { }
            long size = (long)rows * hidden, carried = (long)next * hidden;
            var h = states.Sub(offsets[last], size);
            if (next > 0) RnnStepForwardCore(act, next, hidden, h.Sub(0, carried), states.Sub(offsets[last + 1], carried), wHh, h.Sub(0, carried));
            RnnStepForwardCore(act, rows - next, hidden, h.Sub(carried, size - carried), h0.Sub(carried, size - carried), wHh, h.Sub(carried, size - carried));
            if (last > first)
                UniformRecurrenceForwardCore(act, rows, hidden, last - first, h, wHh, states.Sub(offsets[first], (last - first) * size), true);
        }
    }

    /// <summary>
    /// Run by run of steps with equal rows, against the forward order: each run is one
    /// <see cref="UniformRecurrenceBackwardCore"/> on the first rows of dh, in place. Rows past the run are sequences
    /// that the run does not reach: forwards they still hold dL/d(final state) for their last step, which comes later
    /// in this order; in reverse they already hold their dL/dh0.
    /// </summary>
    protected virtual void RnnRecurrenceBackwardCore(Activation act, ReadOnlySpan<int> stepRows, int hidden, Slice outputs, Slice wHh, Slice dPre,
        Slice dh, Slice scratch, bool reverse)
    {
        Span<long> offsets = stepRows.Length <= 256 ? stackalloc long[stepRows.Length] : new long[stepRows.Length];
        Offsets(stepRows, hidden, offsets);
        int time = stepRows.Length;
        // Runs in the order BPTT meets them: forwards from the last run to the first, in reverse from the first.
        Span<(int First, int End)> runs = time <= 256 ? stackalloc (int, int)[time] : new (int, int)[time];
        int count = 0;
        for (int first = 0, end; first < time; first = end)
        {
            for (end = first + 1; end < time && stepRows[end] == stepRows[first]; end++) { }
            runs[count++] = (first, end);
        }
        for (int i = 0; i < count; i++)
        {
            var (first, end) = runs[reverse ? i : count - 1 - i];
            long size = (long)stepRows[first] * hidden, span = (end - first) * size;
            UniformRecurrenceBackwardCore(act, stepRows[first], hidden, end - first, outputs.Sub(offsets[first], span), wHh,
                dPre.Sub(offsets[first], span), dh.Sub(0, size), scratch.Sub(0, size), reverse);
        }
    }

    /// <summary>Where each step's block starts, in floats.</summary>
    private static void Offsets(ReadOnlySpan<int> stepRows, int hidden, Span<long> offsets)
    {
        long offset = 0;
        for (int t = 0; t < stepRows.Length; t++)
        {
            offsets[t] = offset;
            offset += (long)stepRows[t] * hidden;
        }
    }

    /// <summary>
    /// One step of a layer from its input, for streaming: h = act(x W_ih^T + b_ih + b_hh + hPrev W_hh^T).
    /// x: [batch, inputSize]; wIh: [hidden, inputSize]; bIh, bHh: [hidden]; hPrev, h: [batch, hidden]; wHh: [hidden, hidden].
    /// One call, so that a back end can read both weights in one pass (a streaming step is bound by reading them).
    /// </summary>
    public void RnnInputStepForward(Activation act, int batch, int hidden, int inputSize, Slice x, Slice wIh, Slice bIh, Slice bHh, Slice hPrev,
        Slice wHh, Slice h)
    {
        CheckActivation(act);
        CheckSizes(("batch", batch), ("hidden", hidden), ("input size", inputSize));
        long bh = (long)batch * hidden;
        Check(x, (long)batch * inputSize, nameof(x));
        Check(wIh, (long)hidden * inputSize, nameof(wIh));
        Check(bIh, hidden, nameof(bIh));
        Check(bHh, hidden, nameof(bHh));
        Check(hPrev, bh, nameof(hPrev));
        Check(wHh, (long)hidden * hidden, nameof(wHh));
        Check(h, bh, nameof(h));
        CheckDisjoint(h, nameof(h), (x, nameof(x)), (wIh, nameof(wIh)), (bIh, nameof(bIh)), (bHh, nameof(bHh)), (hPrev, nameof(hPrev)), (wHh, nameof(wHh)));
        if (bh == 0) return;
        RnnInputStepForwardCore(act, batch, hidden, inputSize, x, wIh, bIh, bHh, hPrev, wHh, h);
    }

    /// <summary>The input projection with b_ih, then b_hh, then the fused step in place.</summary>
    protected virtual void RnnInputStepForwardCore(Activation act, int batch, int hidden, int inputSize, Slice x, Slice wIh, Slice bIh, Slice bHh,
        Slice hPrev, Slice wHh, Slice h)
    {
        var spec = new GemmSpec(false, true, batch, hidden, inputSize, 1f, 0f, inputSize, inputSize, hidden);
        GemmBiasCore(spec, x, wIh, h, bIh);
        AddBiasCore(batch, hidden, bHh, h);
        RnnStepForwardCore(act, batch, hidden, h, hPrev, wHh, h);
    }

    /// <summary>
    /// A uniform run of <paramref name="time"/> steps of <paramref name="batch"/> rows: states [time, batch, hidden],
    /// pre on entry, h on return, from h0 [batch, hidden]; in reverse, block t starts from block t + 1 and the last
    /// block from h0. One <see cref="RnnStepForwardCore"/> per step, in place.
    /// </summary>
    protected virtual void UniformRecurrenceForwardCore(Activation act, int batch, int hidden, int time, Slice h0, Slice wHh, Slice states, bool reverse)
    {
        long bh = (long)batch * hidden;
        var hPrev = h0.Sub(0, bh);
        for (int step = 0; step < time; step++)
        {
            int t = reverse ? time - 1 - step : step;
            var h = states.Sub(t * bh, bh);
            RnnStepForwardCore(act, batch, hidden, h, hPrev, wHh, h);
            hPrev = h;
        }
    }

    /// <summary>
    /// BPTT through a uniform run: outputs, dPre [time, batch, hidden]; dh [batch, hidden], dL/d(the run's last state)
    /// on entry, dL/d(its start state) on return; scratch [batch, hidden]. One <see cref="RnnStepBackwardCore"/> per
    /// step, against the order of the forward steps. The gradient carried into forward step s lives in dh when s is
    /// even and in scratch when s is odd, so the one for step 0 ends in dh without a copy.
    /// </summary>
    protected virtual void UniformRecurrenceBackwardCore(Activation act, int batch, int hidden, int time, Slice outputs, Slice wHh, Slice dPre, Slice dh,
        Slice scratch, bool reverse)
    {
        long bh = (long)batch * hidden;
        Slice even = dh.Sub(0, bh), odd = scratch.Sub(0, bh);
        if (time % 2 == 1) CopyCore(even, odd);      // the gradient from outside enters at the last step
        for (int step = time - 1; step >= 0; step--)
        {
            int t = reverse ? time - 1 - step : step;
            Slice dhNext = (step + 1) % 2 == 0 ? even : odd, dhPrev = step % 2 == 0 ? even : odd;
            RnnStepBackwardCore(act, batch, hidden, outputs.Sub(t * bh, bh), wHh, dhNext, dPre.Sub(t * bh, bh), dhPrev);
        }
    }
}
