namespace RnnGpu.Accelerators;

/// <summary>
/// Whole-sequence recurrences: the time loop of one layer as one call, so that a back end can run it
/// as one launch (the CUDA back end's persistent kernel keeps W_hh on chip across every step). The
/// default implementations loop over <see cref="RnnStepForward"/> and <see cref="RnnStepBackward"/>'s
/// Core methods, so every back end has them and computes exactly what the step-by-step loop does.
/// </summary>
public abstract partial class Accelerator
{
    /// <summary>
    /// The recurrence of one layer over <paramref name="time"/> steps: h_t = act(pre_t + h_{t-1} W_hh^T),
    /// t = 1..T, in place. h0: [batch, hidden], the initial state; states: [time, batch, hidden], holding
    /// pre_1..pre_T (x W_ih^T + b_ih + b_hh) on entry and h_1..h_T on return; wHh: [hidden, hidden].
    /// With <paramref name="reverse"/>, the steps run in the other order (the reverse direction of a
    /// bidirectional layer): block t of states starts from block t + 1, and the last block from h0.
    /// </summary>
    public void RnnSequenceForward(Activation act, int batch, int hidden, int time, Slice h0, Slice wHh, Slice states, bool reverse = false)
    {
        CheckActivation(act);
        CheckSizes(("batch", batch), ("hidden", hidden), ("time", time));
        long bh = (long)batch * hidden;
        Check(h0, bh, nameof(h0));
        Check(wHh, (long)hidden * hidden, nameof(wHh));
        Check(states, checked(time * bh), nameof(states));
        CheckDisjoint(states, nameof(states), (h0, nameof(h0)), (wHh, nameof(wHh)));
        RnnSequenceForwardCore(act, batch, hidden, time, h0, wHh, states, reverse);
    }

    /// <summary>
    /// The forward recurrence of sequences of different lengths in the packed layout (sorted longest first):
    /// step t runs the first <paramref name="stepRows"/>[t] sequences (non-increasing, at least 1), its block
    /// of states following step t - 1's, and starts from the first rows of step t - 1's block (of h0 for step
    /// 0). h0: [stepRows[0], hidden]; states: [Σ stepRows, hidden], pre on entry, h on return. One call per
    /// layer, so a back end can keep W_hh packed across every step however the batch shrinks.
    /// </summary>
    public void RnnPackedSequenceForward(Activation act, ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, Slice states)
    {
        CheckActivation(act);
        CheckSizes(("hidden", hidden));
        long rows = 0;
        for (int t = 0; t < stepRows.Length; t++)
        {
            if (stepRows[t] < 1 || (t > 0 && stepRows[t] > stepRows[t - 1]))
                throw new ShapeException($"step {t} runs {stepRows[t]} sequences: packed steps must run at least one and never more than the step before");
            rows += stepRows[t];
        }
        if (stepRows.IsEmpty) return;
        Check(h0, (long)stepRows[0] * hidden, nameof(h0));
        Check(wHh, (long)hidden * hidden, nameof(wHh));
        Check(states, checked(rows * hidden), nameof(states));
        CheckDisjoint(states, nameof(states), (h0, nameof(h0)), (wHh, nameof(wHh)));
        RnnPackedSequenceForwardCore(act, stepRows, hidden, h0, wHh, states);
    }

    /// <summary>One <see cref="RnnStepForwardCore"/> per step, in place.</summary>
    protected virtual void RnnPackedSequenceForwardCore(Activation act, ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, Slice states)
    {
        var hPrev = h0;
        long offset = 0;
        foreach (int rows in stepRows)
        {
            long size = (long)rows * hidden;
            var h = states.Sub(offset, size);
            RnnStepForwardCore(act, rows, hidden, h, hPrev.Sub(0, size), wHh, h);
            hPrev = h;
            offset += size;
        }
    }

    /// <summary>
    /// BPTT through the recurrence of one layer, against the order of the forward steps (T down to 1):
    /// dPre_t = (dPre_t + dh_t) * act'(h_t), dh_{t-1} = dPre_t W_hh. outputs: [time, batch, hidden] =
    /// h_1..h_T; wHh: [hidden, hidden]; dPre: [time, batch, hidden], dL/dh_t from the layer's output on
    /// entry, dL/dpre_t on return; dh: [batch, hidden], dL/dh_T from outside the layer on entry (zeros
    /// when there is none; an encoder's final state gets one from its decoder), dL/dh_0 on return;
    /// scratch: [batch, hidden] of working space, left undefined.
    /// With <paramref name="reverse"/>, the BPTT of <see cref="RnnSequenceForward"/>'s reverse order: from block 0 up to block T - 1.
    /// </summary>
    public void RnnSequenceBackward(Activation act, int batch, int hidden, int time, Slice outputs, Slice wHh, Slice dPre, Slice dh, Slice scratch,
        bool reverse = false)
    {
        CheckActivation(act);
        CheckSizes(("batch", batch), ("hidden", hidden), ("time", time));
        long bh = (long)batch * hidden, all = checked(time * bh);
        Check(outputs, all, nameof(outputs));
        Check(wHh, (long)hidden * hidden, nameof(wHh));
        Check(dPre, all, nameof(dPre));
        Check(dh, bh, nameof(dh));
        Check(scratch, bh, nameof(scratch));
        CheckDisjoint(dPre, nameof(dPre), (outputs, nameof(outputs)), (wHh, nameof(wHh)), (dh, nameof(dh)), (scratch, nameof(scratch)));
        CheckDisjoint(dh, nameof(dh), (outputs, nameof(outputs)), (wHh, nameof(wHh)), (scratch, nameof(scratch)));
        CheckDisjoint(scratch, nameof(scratch), (outputs, nameof(outputs)), (wHh, nameof(wHh)));
        RnnSequenceBackwardCore(act, batch, hidden, time, outputs, wHh, dPre, dh, scratch, reverse);
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

    /// <summary>One <see cref="RnnStepForwardCore"/> per step, in place.</summary>
    protected virtual void RnnSequenceForwardCore(Activation act, int batch, int hidden, int time, Slice h0, Slice wHh, Slice states, bool reverse)
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
    /// One <see cref="RnnStepBackwardCore"/> per step, against the order of the forward steps. The gradient
    /// carried into forward step s lives in dh when s is even and in scratch when s is odd, so the one for
    /// step 0, dL/dh_0, ends in dh without a copy.
    /// </summary>
    protected virtual void RnnSequenceBackwardCore(Activation act, int batch, int hidden, int time, Slice outputs, Slice wHh, Slice dPre, Slice dh,
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
