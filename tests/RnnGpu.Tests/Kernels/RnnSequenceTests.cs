using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu.Reference;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Kernels;

/// <summary>
/// The whole-sequence recurrences (RnnSequenceForward / RnnSequenceBackward) on every back end against
/// the reference step applied step by step, in both step orders. On CUDA these run the persistent kernel
/// where the shape fits (Cuda/CudaBackendTests force each path).
/// </summary>
public sealed class RnnSequenceTests
{
    private const double Rtol = 1e-4, Atol = 1e-5;

    public static IEnumerable<object[]> Cases()
    {
        foreach (var backend in TestBackends.Names)
        foreach (var act in new[] { Activation.Tanh, Activation.Relu })
        foreach (bool reverse in new[] { false, true })
        foreach (var (batch, hidden, time) in new[] { (1, 1, 1), (1, 33, 7), (7, 13, 5), (3, 65, 9), (16, 40, 4), (2, 300, 3), (13, 100, 4), (64, 256, 3), (9, 129, 2) })
            yield return [backend, act, reverse, batch, hidden, time];
    }

    /// <summary>A random problem: W_hh scaled by 1/sqrt(H) so that relu stays bounded over the steps.</summary>
    internal sealed record Problem(int Batch, int Hidden, int Time, float[] H0, float[] W, float[] Pre, float[] DhAbove, float[] DhLast)
    {
        public static Problem Random(int batch, int hidden, int time, int seed)
        {
            var rng = new Random(seed);
            long bh = (long)batch * hidden;
            return new Problem(batch, hidden, time,
                Numerics.Random(rng, bh), Numerics.Random(rng, (long)hidden * hidden, 1.5f / MathF.Sqrt(hidden)),
                Numerics.Random(rng, time * bh), Numerics.Random(rng, time * bh), Numerics.Random(rng, bh));
        }

        private int Bh => Batch * Hidden;

        /// <summary>Block order of the forward steps: 0..T-1, or T-1..0 in reverse.</summary>
        private int Block(int step, bool reverse) => reverse ? Time - 1 - step : step;

        /// <summary>h_1..h_T by the reference step.</summary>
        public float[] Forward(Activation act, bool reverse)
        {
            var states = (float[])Pre.Clone();
            var hPrev = H0;
            for (int s = 0; s < Time; s++)
            {
                var h = states.AsSpan(Block(s, reverse) * Bh, Bh);
                var pre = h.ToArray();
                ReferenceKernels.RnnStepForward(act, Batch, Hidden, pre, hPrev, W, h);
                hPrev = h.ToArray();
            }
            return states;
        }

        /// <summary>dPre (in place from DhAbove) and dh0 by the reference step, against the forward order, from dh_T = DhLast.</summary>
        public (float[] DPre, float[] Dh0) Backward(Activation act, bool reverse, float[] outputs)
        {
            var dPre = (float[])DhAbove.Clone();
            var dh = (float[])DhLast.Clone();
            for (int s = Time - 1; s >= 0; s--)
            {
                int t = Block(s, reverse);
                var next = new float[Bh];
                ReferenceKernels.RnnStepBackward(act, Batch, Hidden, outputs.AsSpan(t * Bh, Bh), W, dh, dPre.AsSpan(t * Bh, Bh), next);
                dh = next;
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
            acc.RnnSequenceForward(act, p.Batch, p.Hidden, p.Time, Upload(acc, p.H0, owned), w, states, reverse);
            var outputs = acc.ToArray(states);
            Numerics.AssertClose(expected, outputs, Rtol, Atol, $"{what}: h");

            // Backward from the reference outputs, so that the check is of the backward pass alone.
            var (expectedPre, expectedDh0) = p.Backward(act, reverse, expected);
            var dPre = Upload(acc, p.DhAbove, owned);
            var dh = Upload(acc, p.DhLast, owned);
            var scratch = Upload(acc, new float[p.Batch * p.Hidden], owned);
            acc.Fill(scratch, float.NaN);      // working space: whatever it held must not matter
            acc.RnnSequenceBackward(act, p.Batch, p.Hidden, p.Time, Upload(acc, expected, owned), w, dPre, dh, scratch, reverse);
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
    public void Sequence_matches_the_reference_step_by_step(string backend, Activation act, bool reverse, int batch, int hidden, int time)
    {
        using var acc = TestBackends.Open(backend);
        var p = Problem.Random(batch, hidden, time, batch * 1000 + hidden * 10 + time);
        AssertMatchesReference(acc, p, act, reverse, $"{backend} {act} reverse={reverse} B={batch} H={hidden} T={time}");
    }

    [Theory]
    [MemberData(nameof(TestBackendsNames))]
    public void Sequence_checks_its_slices(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var buf = acc.Allocate(200);
        using var w = acc.Allocate(16);
        // states [3, 2, 4] = 24 floats; h0 [2, 4] = 8.
        Assert.Contains("states", Assert.Throws<ShapeException>(() =>
            acc.RnnSequenceForward(Activation.Tanh, 2, 4, 3, buf.Slice(100, 8), w, buf.Slice(0, 23))).Message);
        Assert.Contains("overlaps h0", Assert.Throws<ShapeException>(() =>
            acc.RnnSequenceForward(Activation.Tanh, 2, 4, 3, buf.Slice(16, 8), w, buf.Slice(0, 24))).Message);
        Assert.Throws<ShapeException>(() => acc.RnnSequenceForward(Activation.Tanh, 2, 4, -1, buf.Slice(100, 8), w, buf.Slice(0, 24)));
        Assert.Contains("overlaps dh", Assert.Throws<ShapeException>(() =>
            acc.RnnSequenceBackward(Activation.Tanh, 2, 4, 3, buf.Slice(0, 24), w, buf.Slice(30, 24), buf.Slice(50, 8), buf.Slice(80, 8))).Message);
        Assert.Contains("scratch", Assert.Throws<ShapeException>(() =>
            acc.RnnSequenceBackward(Activation.Tanh, 2, 4, 3, buf.Slice(0, 24), w, buf.Slice(30, 24), buf.Slice(60, 8), buf.Slice(20, 8))).Message);
        acc.RnnSequenceBackward(Activation.Tanh, 2, 4, 3, buf.Slice(0, 24), w, buf.Slice(30, 24), buf.Slice(60, 8), buf.Slice(80, 8));
    }

    public static TheoryData<string> TestBackendsNames => TestBackends.Names;
}
