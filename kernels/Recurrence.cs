using ILGPU;
using ILGPU.Runtime;

namespace RnnGpu.Kernels;

/// <summary>
/// The geometry of one persistent launch (<see cref="Recurrence"/>): Batch rows of Hidden units over Time steps; each
/// of the grid's groups owns Units consecutive hidden units, and each of its outputs is summed by Lanes threads.
/// </summary>
public struct RecurrenceArgs
{
    public int Batch, Hidden, Time, Act, Reverse, Units, Lanes;
}

/// <summary>
/// A whole layer's recurrence as one persistent launch, for small batches, where the step loop's per-step GEMMs are a
/// few groups each and bound by launch latency and by re-reading W_hh [hidden, hidden] from memory every step.
///
///   Forward:  h_t = act(pre_t + h_{t-1} W_hh^T), t = 1..T.   h0: [B, H]; states: [T, B, H], pre on entry, h on return.
///   Backward: dPre_t = (dPre_t + dh_t) act'(h_t), dh_{t-1} = dPre_t W_hh, t = T..1.   outputs, dPre: [T, B, H];
///             dh: [B, H], dL/dh_T on entry, dL/dh_0 on return.
///   Reverse runs the steps in the other order (the reverse direction of a bidirectional layer).
///
/// Launch (<see cref="Config"/>): ceil(H / Units) groups, every one of them resident at once (the host sizes the grid
/// from ILGPU's occupancy estimate), because the groups meet at a software grid barrier after every step: ILGPU has no
/// cooperative launch. Group g owns units [g Units, (g + 1) Units) and keeps their slice of W_hh in shared memory for
/// the whole sequence: the forward pass needs rows j of W_hh (h_t[b, j] = act(pre + Σ_k h_{t-1}[b, k] W[j, k])), the
/// backward pass columns k (dh_{t-1}[b, k] = Σ_j dPre_t[b, j] W[j, k]), stored as rows so that both read shared memory
/// contiguously. Each of a group's Batch x Units outputs is a dot product of length H, by one thread, or split over
/// Lanes threads when the outputs are fewer than the group's threads, their partial sums added by one thread in a
/// fixed order: the result depends on the shape only, never on timing.
///
/// One grid barrier per step suffices. Forward: step t reads all of h_{t-1} and writes only the group's units of h_t,
/// into another block. Backward: phase 1 updates the group's units of dPre_t from its own units of dh, the barrier
/// publishes dPre_t, and phase 2 reads all of it to write the group's units of dh_{t-1}, which only this group reads.
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
    public static void Forward(ArrayView<float> h0, ArrayView<float> wHh, ArrayView<float> states, ArrayView<int> barrier, RecurrenceArgs a)
    {
        int h = a.Hidden, u0 = Grid.IdxX * a.Units, units = IntrinsicMath.Min(a.Units, h - u0);
        var shared = SharedMemory.GetDynamic<float>();
        var w = shared.SubView(0, (long)a.Units * h);                 // w[u H + k] = W_hh[u0 + u, k]
        var partial = shared.SubView((long)a.Units * h, Group.DimX);
        for (long i = Group.IdxX; i < (long)units * h; i += Group.DimX) w[i] = wHh[(long)u0 * h + i];
        Group.Barrier();

        long bh = (long)a.Batch * h;
        for (int step = 0; step < a.Time; step++)
        {
            int t = a.Reverse != 0 ? a.Time - 1 - step : step;
            int prevT = a.Reverse != 0 ? t + 1 : t - 1;
            var prev = step == 0 ? h0.SubView(0, bh) : states.SubView(prevT * bh, bh);
            var cur = states.SubView(t * bh, bh);
            StepOutputs(a, units, u0, prev, w, partial, cur, forward: true);
            GridBarrier(barrier, Grid.DimX, step + 1);
        }
    }

    public static void Backward(ArrayView<float> outputs, ArrayView<float> wHh, ArrayView<float> dPre, ArrayView<float> dh, ArrayView<int> barrier,
        RecurrenceArgs a)
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

        long bh = (long)a.Batch * h;
        for (int step = a.Time - 1; step >= 0; step--)
        {
            int t = a.Reverse != 0 ? a.Time - 1 - step : step;
            var y = outputs.SubView(t * bh, bh);
            var d = dPre.SubView(t * bh, bh);
            // Phase 1: dPre_t = (dPre_t + dh_t) act'(h_t) on this group's units.
            for (int o = Group.IdxX; o < a.Batch * units; o += Group.DimX)
            {
                long i = (long)(o / units) * h + u0 + o % units;
                float g = d[i] + dh[i], v = y[i];
                d[i] = a.Act == Act.Tanh ? g * (1f - v * v) : (v > 0f ? g : 0f);
            }
            GridBarrier(barrier, Grid.DimX, a.Time - step);
            // Phase 2: dh_{t-1}[b, k] = Σ_j dPre_t[b, j] W[j, k] on this group's units k.
            StepOutputs(a, units, u0, d, w, partial, dh, forward: false);
        }
    }

    /// <summary>
    /// One step's dot products x[b, :] · w[u, :] for every output (b, u) of the group, each written to target[b, u0 + u]
    /// as act(target + sum) forwards (target = h_t, holding pre_t) or as the sum backwards (target = dh). With one lane
    /// each thread takes outputs in turn; with several (the host picks them only when Lanes x Batch x Units fits the
    /// group), each output's lanes leave partials that its first lane adds in order after a group barrier. Ends with a
    /// group barrier, so the group sees all of target.
    /// </summary>
    private static void StepOutputs(in RecurrenceArgs a, int units, int u0, ArrayView<float> x, ArrayView<float> w, ArrayView<float> partial,
        ArrayView<float> target, bool forward)
    {
        int h = a.Hidden, lanes = a.Lanes, outputs = a.Batch * units;
        if (lanes == 1)
        {
            for (int o = Group.IdxX; o < outputs; o += Group.DimX)
            {
                long xRow = (long)(o / units) * h, wRow = (long)(o % units) * h;
                float sum = 0f;
                for (int k = 0; k < h; k++) sum += x[xRow + k] * w[wRow + k];
                Write(a, target, (long)(o / units) * h + u0 + o % units, sum, forward);
            }
        }
        else
        {
            int lane = Group.IdxX % lanes, o = Group.IdxX / lanes;
            float sum = 0f;
            if (o < outputs)
            {
                long xRow = (long)(o / units) * h, wRow = (long)(o % units) * h;
                for (int k = lane; k < h; k += lanes) sum += x[xRow + k] * w[wRow + k];
            }
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

    private static void Write(in RecurrenceArgs a, ArrayView<float> target, long i, float sum, bool forward) =>
        target[i] = forward ? DeviceMath.Activate(a.Act, target[i] + sum) : sum;

    /// <summary>
    /// The software grid barrier: the group's writes are fenced to device scope, one thread adds the group's arrival
    /// and spins until all groups' arrivals for this barrier are in (the count only grows: barrier n waits for
    /// n x groups), then fences again so the group reads what the others wrote.
    /// </summary>
    private static void GridBarrier(ArrayView<int> counter, int groups, int n)
    {
        MemoryFence.DeviceLevel();
        Group.Barrier();
        if (Group.IdxX == 0)
        {
            Atomic.Add(ref counter[0], 1);
            int target = n * groups;
            while (Atomic.CompareExchange(ref counter[0], -1, -1) < target) { }
            MemoryFence.DeviceLevel();
        }
        Group.Barrier();
    }
}
