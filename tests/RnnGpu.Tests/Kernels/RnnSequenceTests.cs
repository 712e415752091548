using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu.Reference;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Kernels;

/// <summary>
/// The whole-sequence recurrences (RnnRecurrenceForward / RnnRecurrenceBackward) on every back end against the
/// reference step applied step by step, in both directions, over uniform batches and packed ones (sequences of
/// different lengths, longest first). On the ILGPU back end uniform runs take the persistent kernel where the shape
/// fits (Ilgpu/PersistentRecurrenceTests force each path).
/// </summary>
public sealed class RnnSequenceTests
{
    private const double Rtol = 1e-4, Atol = 1e-5;

    public static IEnumerable<object[]> Cases()
    {
        foreach (var backend in TestBackends.Names)
        foreach (var act in new[] { Activation.Tanh, Activation.Relu })
        foreach (bool reverse in new[] { false, true })
        {
            foreach (var (batch, hidden, time) in new[] { (1, 1, 1), (1, 33, 7), (7, 13, 5), (3, 65, 9), (16, 40, 4), (2, 300, 3), (13, 100, 4), (64, 256, 3), (9, 129, 2) })
                yield return [backend, act, reverse, hidden, string.Join(",", Enumerable.Repeat(batch, time))];
            foreach (var (hidden, rows) in new[] { (13, "2,1"), (33, "3,3,2,1"), (100, "9,9,7,5,4,4,1"), (65, "17,12,12,5,3") })
                yield return [backend, act, reverse, hidden, rows];
        }
    }

    /// <summary>A random problem: W_hh scaled by 1/sqrt(H) so that relu stays bounded over the steps.</summary>
    internal sealed record Problem(int[] StepRows, int Hidden, float[] H0, float[] W, float[] Pre, float[] DhAbove, float[] DhLast)
    {
        public static Problem Random(int batch, int hidden, int time, int seed) => Packed(Enumerable.Repeat(batch, time).ToArray(), hidden, seed);

        public static Problem Packed(int[] stepRows, int hidden, int seed)
        {
            var rng = new Random(seed);
            long first = (long)stepRows[0] * hidden, all = stepRows.Sum() * (long)hidden;
            return new Problem(stepRows, hidden,
                Numerics.Random(rng, first), Numerics.Random(rng, (long)hidden * hidden, 1.5f / MathF.Sqrt(hidden)),
                Numerics.Random(rng, all), Numerics.Random(rng, all), Numerics.Random(rng, first));
        }

        public int Time => StepRows.Length;

        private int Offset(int t) => StepRows.Take(t).Sum() * Hidden;

        private int Size(int t) => t < Time ? StepRows[t] * Hidden : 0;

        /// <summary>
        /// h of every step by the reference step: forwards from step t - 1 (h0 for step 0); in reverse from step t + 1
        /// for the rows that reach it, from h0 for the others.
        /// </summary>
        public float[] Forward(Activation act, bool reverse)
        {
            var states = (float[])Pre.Clone();
            for (int s = 0; s < Time; s++)
            {
                int t = reverse ? Time - 1 - s : s;
                var h = states.AsSpan(Offset(t), Size(t));
                var hPrev = H0[..Size(t)];
                if (!reverse && t > 0) hPrev = states.AsSpan(Offset(t - 1), Size(t)).ToArray();
                if (reverse) states.AsSpan(Offset(t + 1 < Time ? t + 1 : t), Size(t + 1)).CopyTo(hPrev);
                ReferenceKernels.RnnStepForward(act, StepRows[t], Hidden, h.ToArray(), hPrev, W, h);
            }
            return states;
        }

        /// <summary>dPre (in place from DhAbove) and dh0 by the reference step, against the forward order, from the final-state gradient DhLast.</summary>
        public (float[] DPre, float[] Dh0) Backward(Activation act, bool reverse, float[] outputs)
        {
            var dPre = (float[])DhAbove.Clone();
            var dh = (float[])DhLast.Clone();
            for (int s = Time - 1; s >= 0; s--)
            {
                int t = reverse ? Time - 1 - s : s;
                var next = new float[Size(t)];
                ReferenceKernels.RnnStepBackward(act, StepRows[t], Hidden, outputs.AsSpan(Offset(t), Size(t)), W, dh.AsSpan(0, Size(t)),
                    dPre.AsSpan(Offset(t), Size(t)), next);
                next.CopyTo(dh, 0);
            }
            return (dPre, dh);
        }
    }
    /// <summary>Uploads into a fresh buffer at an odd offset, to test slice offsets.</summary>
    internal static Slice Upload(Accelerator acc, float[] data, List<DeviceBuffer> owned)
    {
        const int pad = 5;
        var buffer = acc.Allocate(data.Length + 2 * pad);
        owned.Add(buffer);
        var slice = buffer.Slice(pad, data.Length);
        acc.CopyIn(data, slice);
        return slice;
    }

    /// <summary>Runs forward then backward of <paramref name="p"/> on <paramref name="acc"/> and checks both against the reference.</summary>
    internal static void AssertMatchesReference(Accelerator acc, Problem p, Activation act, bool reverse, string what)
    {
        var owned = new List<DeviceBuffer>();
        try
        {
            var expected = p.Forward(act, reverse);
            var w = Upload(acc, p.W, owned);
            var states = Upload(acc, p.Pre, owned);
            acc.RnnRecurrenceForward(act, p.StepRows, p.Hidden, Upload(acc, p.H0, owned), w, states, reverse);
            var outputs = acc.ToArray(states);
            Numerics.AssertClose(expected, outputs, Rtol, Atol, $"{what}: h");

            // Backward from the reference outputs, so that the check is of the backward pass alone.
            var (expectedPre, expectedDh0) = p.Backward(act, reverse, expected);
            var dPre = Upload(acc, p.DhAbove, owned);
            var dh = Upload(acc, p.DhLast, owned);
            var scratch = Upload(acc, new float[p.StepRows[0] * p.Hidden], owned);
            acc.Fill(scratch, float.NaN);      // working space: whatever it held must not matter
            acc.RnnRecurrenceBackward(act, p.StepRows, p.Hidden, Upload(acc, expected, owned), w, dPre, dh, scratch, reverse);
            Numerics.AssertClose(expectedPre, acc.ToArray(dPre), Rtol, Atol, $"{what}: dPre");
            Numerics.AssertClose(expectedDh0, acc.ToArray(dh), Rtol, Atol, $"{what}: dh0");
        }
        finally
        {
            foreach (var b in owned) b.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Sequence_matches_the_reference_step_by_step(string backend, Activation act, bool reverse, int hidden, string rowsText)
    {
        using var acc = TestBackends.Open(backend);
        int[] rows = rowsText.Split(',').Select(int.Parse).ToArray();
        var p = Problem.Packed(rows, hidden, rows[0] * 1000 + hidden * 10 + rows.Length);
        AssertMatchesReference(acc, p, act, reverse, $"{backend} {act} reverse={reverse} H={hidden} rows={rowsText}");
    }

    [Theory]
    [MemberData(nameof(TestBackendsNames))]
    public void Sequence_checks_its_slices(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var buf = acc.Allocate(200);
        using var w = acc.Allocate(16);
        int[] rows = [2, 2, 2];   // states [3, 2, 4] = 24 floats; h0 [2, 4] = 8
        Assert.Contains("states", Assert.Throws<ShapeException>(() =>
            acc.RnnRecurrenceForward(Activation.Tanh, rows, 4, buf.Slice(100, 8), w, buf.Slice(0, 23))).Message);
        Assert.Contains("overlaps h0", Assert.Throws<ShapeException>(() =>
            acc.RnnRecurrenceForward(Activation.Tanh, rows, 4, buf.Slice(16, 8), w, buf.Slice(0, 24))).Message);
        Assert.Throws<ShapeException>(() => acc.RnnRecurrenceForward(Activation.Tanh, rows, -1, buf.Slice(100, 8), w, buf.Slice(0, 24)));
        Assert.Contains("never more than the step before", Assert.Throws<ShapeException>(() =>
            acc.RnnRecurrenceForward(Activation.Tanh, [1, 2], 4, buf.Slice(0, 8), w, buf.Slice(20, 12))).Message);
        Assert.Contains("at least one", Assert.Throws<ShapeException>(() =>
            acc.RnnRecurrenceBackward(Activation.Tanh, [2, 0], 4, buf.Slice(0, 8), w, buf.Slice(30, 8), buf.Slice(50, 8), buf.Slice(80, 8))).Message);
        Assert.Contains("overlaps dh", Assert.Throws<ShapeException>(() =>
            acc.RnnRecurrenceBackward(Activation.Tanh, rows, 4, buf.Slice(0, 24), w, buf.Slice(30, 24), buf.Slice(50, 8), buf.Slice(80, 8))).Message);
        Assert.Contains("scratch", Assert.Throws<ShapeException>(() =>
            acc.RnnRecurrenceBackward(Activation.Tanh, rows, 4, buf.Slice(0, 24), w, buf.Slice(30, 24), buf.Slice(60, 8), buf.Slice(20, 8))).Message);
        acc.RnnRecurrenceBackward(Activation.Tanh, rows, 4, buf.Slice(0, 24), w, buf.Slice(30, 24), buf.Slice(60, 8), buf.Slice(80, 8));
    }

    public static TheoryData<string> TestBackendsNames => TestBackends.Names;
}
