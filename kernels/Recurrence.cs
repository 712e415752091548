using ILGPU;
using ILGPU.Runtime;

namespace RnnGpu.Kernels;

/// <summary>
/// The geometry of one persistent launch (<see cref="Recurrence"/>): Time steps of at most Batch rows (the first
/// step's) of Hidden units; each of the grid's groups owns Units consecutive hidden units, and each of its outputs is
/// summed by Lanes threads.
/// </summary>
public struct RecurrenceArgs
{
    public int Batch, Hidden, Time, Act, Reverse, Units, Lanes;
    /// <summary>Polls of the grid barrier before it gives up (a group that is never resident would hang it); 0: never.</summary>
    public int SpinLimit;
}

/// <summary>
/// A whole layer's recurrence as one persistent launch, for small batches, where the step loop's per-step GEMMs are a
/// few groups each and bound by launch latency and by re-reading W_hh [hidden, hidden] from memory every step. The
/// batch is packed (Accelerator.RnnRecurrenceForward): step t runs its first rows_t sequences (non-increasing), its
/// block of rows_t x H right after step t - 1's; steps: [2 Time] ints, rows_t then the block's first row, per step.
///
///   Forward:  h_t = act(pre_t + h_prev W_hh^T). h0: [rows_0, H]; states: [Σ rows_t, H], pre on entry, h on return.
///             Forwards h_prev is step t - 1's row (h0's at step 0); in reverse (Reverse = 1, steps T-1 down to 0) it is
///             step t + 1's row while that sequence reaches step t + 1, else h0's.
///   Backward: dPre_t = (dPre_t + dh) act'(h_t), then dh = dPre_t W_hh on the step's rows, against the forward order.
///             outputs, dPre: like states; dh: [rows_0, H], dL/d(final state) on entry, dL/dh0 on return (a row not
///             in a step keeps what it holds: its final-state gradient before its last step, its dL/dh0 after).
///
/// Launch (<see cref="Config"/>): ceil(H / Units) groups, every one of them resident at once (the host sizes the grid
/// from ILGPU's occupancy estimate), because the groups meet at a software grid barrier after every step: ILGPU has no
/// cooperative launch. Group g owns units [g Units, (g + 1) Units) and keeps their slice of W_hh in shared memory for
/// the whole sequence: the forward pass needs rows j of W_hh (h_t[b, j] = act(pre + Σ_k h_prev[b, k] W[j, k])), the
/// backward pass columns k (dh[b, k] = Σ_j dPre_t[b, j] W[j, k]), stored as rows so that both read shared memory
/// contiguously. Each of a group's rows_t x Units outputs is a dot product of length H, by one thread, or split over
/// Lanes threads when the outputs are fewer than the group's threads, their partial sums added by one thread in a
/// fixed order: the result depends on the shape only, never on timing.
///
/// One grid barrier per step suffices. Forward: step t reads all of h_prev and writes only the group's units of h_t,
/// into another block. Backward: phase 1 updates the group's units of dPre_t from its own units of dh, the barrier
/// publishes dPre_t, and phase 2 reads all of it to write the group's units of dh, which only this group reads.
/// </summary>
public static class Recurrence
{
    /// <summary>Shared floats of one group: its W_hh slice (Units x H) and one partial sum per thread.</summary>
    public static long SharedFloats(int units, int hidden, int groupSize) => (long)units * hidden + groupSize;

    public static KernelConfig Config(in RecurrenceArgs a, int groupSize) => new(
        new Index3D((a.Hidden + a.Units - 1) / a.Units, 1, 1),
        new Index3D(groupSize, 1, 1),
        SharedMemoryConfig.RequestDynamic<float>((int)SharedFloats(a.Units, a.Hidden, groupSize)));

    /// <summary>barrier: one int, zero on entry (the host clears it before each launch); it counts arrivals.</summary>
    public static void Forward(ArrayView<float> h0, ArrayView<float> wHh, ArrayView<float> states, ArrayView<int> steps, ArrayView<int> barrier,
        RecurrenceArgs a)
    {
        int h = a.Hidden, u0 = Grid.IdxX * a.Units, units = IntrinsicMath.Min(a.Units, h - u0);
        var shared = SharedMemory.GetDynamic<float>();
        var w = shared.SubView(0, (long)a.Units * h);                 // w[u H + k] = W_hh[u0 + u, k]
        var partial = shared.SubView((long)a.Units * h, Group.DimX);
        for (long i = Group.IdxX; i < (long)units * h; i += Group.DimX) w[i] = wHh[(long)u0 * h + i];
        Group.Barrier();

        for (int step = 0; step < a.Time; step++)
        {
            int t = a.Reverse != 0 ? a.Time - 1 - step : step;
            int rows = steps[2 * t];
            var cur = states.SubView((long)steps[2 * t + 1] * h, (long)rows * h);
            // Rows below `carried` start from block `from`; the rest from h0.
            int from = a.Reverse != 0 ? t + 1 : t - 1;
            int carried = from < 0 || from >= a.Time ? 0 : IntrinsicMath.Min(rows, steps[2 * from]);
            long fromRow = carried > 0 ? steps[2 * from + 1] : 0;
            StepOutputs(a, rows, units, u0, states, fromRow * h, carried, h0, w, partial, cur, forward: true);
            GridBarrier(barrier, Grid.DimX, step + 1, a.SpinLimit);
        }
    }

    public static void Backward(ArrayView<float> outputs, ArrayView<float> wHh, ArrayView<float> dPre, ArrayView<float> dh, ArrayView<int> steps,
        ArrayView<int> barrier, RecurrenceArgs a)
    {
        int h = a.Hidden, u0 = Grid.IdxX * a.Units, units = IntrinsicMath.Min(a.Units, h - u0);
        var shared = SharedMemory.GetDynamic<float>();
        var w = shared.SubView(0, (long)a.Units * h);                 // w[u H + j] = W_hh[j, u0 + u]
        var partial = shared.SubView((long)a.Units * h, Group.DimX);
        for (long i = Group.IdxX; i < (long)units * h; i += Group.DimX)
        {
            long u = i / h, j = i - u * h;
            w[i] = wHh[j * h + u0 + u];
        }
        Group.Barrier();

        for (int step = a.Time - 1; step >= 0; step--)
        {
            int t = a.Reverse != 0 ? a.Time - 1 - step : step;
            int rows = steps[2 * t];
            long block = (long)steps[2 * t + 1] * h;
            // Phase 1: dPre_t = (dPre_t + dh) act'(h_t) on this group's units.
            for (int o = Group.IdxX; o < rows * units; o += Group.DimX)
            {
                long r = (long)(o / units) * h + u0 + o % units;
                float g = dPre[block + r] + dh[r], v = outputs[block + r];
                dPre[block + r] = a.Act == Act.Tanh ? g * (1f - v * v) : (v > 0f ? g : 0f);
            }
            GridBarrier(barrier, Grid.DimX, a.Time - step, a.SpinLimit);
            // Phase 2: dh[b, k] = Σ_j dPre_t[b, j] W[j, k] on this group's units k.
            StepOutputs(a, rows, units, u0, dPre, block, rows, dPre, w, partial, dh, forward: false);
        }
    }

    /// <summary>
    /// One step's dot products x[b, :] · w[u, :] for the step's rows b and the group's units u, each written to
    /// target[b, u0 + u] as act(target + sum) forwards (target = h_t, holding pre_t) or as the sum backwards (target =
    /// dh). Row b of x is xCarried[xOffset + b H ...] below `carried`, else xFresh[b H ...]. With one lane each thread
    /// takes outputs in turn; with several (the host picks them only when Lanes x rows_0 x Units fits the group), each
    /// output's lanes leave partials that its first lane adds in order after a group barrier. Ends with a group
    /// barrier, so the group sees all of target.
    /// </summary>
    private static void StepOutputs(in RecurrenceArgs a, int rows, int units, int u0, ArrayView<float> xCarried, long xOffset, int carried,
        ArrayView<float> xFresh, ArrayView<float> w, ArrayView<float> partial, ArrayView<float> target, bool forward)
    {
        int h = a.Hidden, lanes = a.Lanes, outputs = rows * units;
        if (lanes == 1)
        {
            for (int o = Group.IdxX; o < outputs; o += Group.DimX)
            {
                int b = o / units;
                Write(a, target, (long)b * h + u0 + o % units, Dot(xCarried, xOffset, carried, xFresh, b, h, w, (long)(o % units) * h, 0, 1), forward);
            }
        }
        else
        {
            int lane = Group.IdxX % lanes, o = Group.IdxX / lanes;
            float sum = 0f;
            if (o < outputs) sum = Dot(xCarried, xOffset, carried, xFresh, o / units, h, w, (long)(o % units) * h, lane, lanes);
            partial[Group.IdxX] = sum;
            Group.Barrier();
            if (o < outputs && lane == 0)
            {
                float total = 0f;
                for (int l = 0; l < lanes; l++) total += partial[Group.IdxX + l];
                Write(a, target, (long)(o / units) * h + u0 + o % units, total, forward);
            }
        }
        Group.Barrier();
    }

    /// <summary>Σ over k = first, first + stride, ... of x[b, k] w[wRow + k], x's row b as <see cref="StepOutputs"/> picks it.</summary>
    private static float Dot(ArrayView<float> xCarried, long xOffset, int carried, ArrayView<float> xFresh, int b, int h, ArrayView<float> w, long wRow,
        int first, int stride)
    {
        var x = b < carried ? xCarried : xFresh;
        long xRow = (b < carried ? xOffset : 0) + (long)b * h;
        float sum = 0f;
        for (int k = first; k < h; k += stride) sum += x[xRow + k] * w[wRow + k];
        return sum;
    }

    private static void Write(in RecurrenceArgs a, ArrayView<float> target, long i, float sum, bool forward) =>
        target[i] = forward ? DeviceMath.Activate(a.Act, target[i] + sum) : sum;

    /// <summary>
    /// The software grid barrier: the group's writes are fenced to device scope, one thread adds the group's arrival
    /// and spins until all groups' arrivals for this barrier are in (the count only grows: barrier n waits for
    /// n x groups), then fences again so the group reads what the others wrote. counter: [arrivals, timed out]. A
    /// barrier that polls spinLimit times without the others arriving (a group that was never resident, so the launch
    /// could never finish) sets the second int and lets every later barrier through: the kernel ends with wrong
    /// results, and the host, which reads the flag before it trusts them, raises an error instead of hanging.
    /// </summary>
    private static void GridBarrier(ArrayView<int> counter, int groups, int n, int spinLimit)
    {
        MemoryFence.DeviceLevel();
        Group.Barrier();
        if (Group.IdxX == 0)
        {
            Atomic.Add(ref counter[0], 1);
            int target = n * groups, spins = 0;
            while (Atomic.CompareExchange(ref counter[0], -1, -1) < target)
            {
                if ((++spins & 1023) != 0) continue;   // every 1024 polls: out of time, or another group was?
                if (spinLimit > 0 && spins >= spinLimit) Atomic.Exchange(ref counter[1], 1);
                if (Atomic.CompareExchange(ref counter[1], -1, -1) != 0) break;
            }
            MemoryFence.DeviceLevel();
        }
        Group.Barrier();
    }
}
