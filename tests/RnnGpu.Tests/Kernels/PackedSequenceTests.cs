using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu.Reference;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Kernels;

/// <summary>
/// RnnRecurrenceForward over packed steps (sequences of different lengths, longest first, the batch shrinking as
/// they end) on every back end, in both modes (batch-invariant and not: the CPU has a kernel for each), against the
/// reference step applied step by step on the running rows. Both directions and the backward pass are in RnnSequenceTests.
/// </summary>
public sealed class PackedSequenceTests
{
    public static IEnumerable<TheoryDataRow<string, Activation, bool, int, string>> Cases() =>
        from backend in TestBackends.Names
        from act in new[] { Activation.Tanh, Activation.Relu }
        from invariant in new[] { false, true }
        from c in new[] { (13, "1"), (33, "3,3,2,1"), (100, "9,9,7,5,4,4,1"), (256, "17,12,12,5,3"), (300, "6,6,6") }
        select new TheoryDataRow<string, Activation, bool, int, string>(backend.Data, act, invariant, c.Item1, c.Item2);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Packed_steps_match_the_reference_on_the_rows_still_running(string backend, Activation act, bool invariant, int hidden, string rowsText)
    {
        int[] stepRows = rowsText.Split(',').Select(int.Parse).ToArray();
        int total = stepRows.Sum();
        var rng = new Random(hidden + total);
        var h0 = Numerics.Random(rng, stepRows[0] * hidden);
        var w = Numerics.Random(rng, hidden * hidden, 1.5f / MathF.Sqrt(hidden));
        var pre = Numerics.Random(rng, total * hidden);

        var expected = (float[])pre.Clone();
        ReadOnlySpan<float> hPrev = h0;
        for (int t = 0, offset = 0; t < stepRows.Length; offset += stepRows[t] * hidden, t++)
        {
            var h = expected.AsSpan(offset, stepRows[t] * hidden);
            ReferenceKernels.RnnStepForward(act, stepRows[t], hidden, h.ToArray(), hPrev[..h.Length], w, h);
            hPrev = h.ToArray();
        }

        using var acc = TestBackends.Open(backend);
        using var pass = BatchInvariance.Begin(invariant);
        using var h0Buffer = acc.Allocate(h0.Length);
        using var wBuffer = acc.Allocate(w.Length);
        using var states = acc.Allocate(pre.Length);
        acc.CopyIn(h0, h0Buffer);
        acc.CopyIn(w, wBuffer);
        acc.CopyIn(pre, states);
        acc.RnnRecurrenceForward(act, stepRows, hidden, h0Buffer, wBuffer, states);
        Numerics.AssertClose(expected, acc.ToArray(states), 1e-4, 1e-5, $"{backend} {act} invariant={invariant} H={hidden} rows={rowsText}");
    }
}
