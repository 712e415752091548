using ILGPU.Runtime.CPU;
using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Ilgpu;
using RnnGpu.Tests.Kernels;

namespace RnnGpu.Tests.Ilgpu;

/// <summary>
/// The persistent recurrence (kernels/Recurrence.cs) on ILGPU's CPU accelerator with several simulated
/// multiprocessors, so that the grid really has several groups meeting at the software grid barrier every step
/// (`ilgpu-cpu` itself has one multiprocessor, so its grid is one group). Two device shapes with different warp
/// sizes and group sizes; each shape (uniform batches, and packed ones whose steps run fewer and fewer sequences) and
/// each path is checked against the reference step applied step by step.
/// </summary>
public sealed class PersistentRecurrenceTests
{
    /// <summary>
    /// warp 4 x 4 warps (groups of 16) on 3 multiprocessors; warp 32 x 2 warps (groups of 64) on 2; and a GPU's groups
    /// of 256 (warp 32 x 8) on 2.
    /// </summary>
    private static IlgpuAccelerator Open(string device) => device switch
    {
        "w4x3" => IlgpuAccelerator.OpenCpu(new CPUDevice(4, 4, 3), "ILGPU CPU, warp 4, 3 multiprocessors"),
        "w32x2" => IlgpuAccelerator.OpenCpu(new CPUDevice(32, 2, 2), "ILGPU CPU, warp 32, 2 multiprocessors"),
        _ => IlgpuAccelerator.OpenCpu(new CPUDevice(32, 8, 2), "ILGPU CPU, groups of 256, 2 multiprocessors"),
    };

    public static IEnumerable<object[]> Cases()
    {
        foreach (var device in new[] { "w4x3", "w32x2" })
        foreach (var act in new[] { Activation.Tanh, Activation.Relu })
        foreach (bool reverse in new[] { false, true })
        foreach (var (hidden, rows) in new[] { (33, "1,1,1,1,1,1,1"), (65, "3,3,3,3,3"), (8, "5,5,5,5"), (100, "2,2,2"), (33, "5,5,3,1"), (65, "4,2,2") })
            yield return [device, act, reverse, hidden, rows];
        // Groups of 256: several lanes per output (batch 1 and 3), and one lane (batch 9 x 40 units > 256).
        foreach (bool reverse in new[] { false, true })
        foreach (var (hidden, rows) in new[] { (129, "1,1,1,1"), (80, "9,9,4,3"), (40, "3,2,2,1") })
            yield return ["w32x8x2", Activation.Tanh, reverse, hidden, rows];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Persistent_and_step_loop_both_match_the_reference(string device, Activation act, bool reverse, int hidden, string rowsText)
    {
        using var acc = Open(device);
        int[] rows = rowsText.Split(',').Select(int.Parse).ToArray();
        var p = RnnSequenceTests.Problem.Packed(rows, hidden, hidden + rows.Length);
        var plan = acc.Plan(backward: false, rows[0], hidden, rows.Length, out string why);
        Assert.True(plan is { Groups: > 1 }, $"{device}: the grid of H={hidden} should have several groups ({why})");
        AssertBothPathsMatch(acc, p, act, reverse, $"{device} {act} reverse={reverse} H={hidden} rows={rowsText}");
    }

    /// <summary>The persistent kernel, then the step loop, each forward and backward against the reference (one launch each way, or none).</summary>
    internal static void AssertBothPathsMatch(IlgpuAccelerator acc, RnnSequenceTests.Problem p, Activation act, bool reverse, string what)
    {
        foreach (var path in new[] { RecurrencePath.Persistent, RecurrencePath.Standard })
        {
            acc.RecurrencePath = path;
            int before = acc.PersistentLaunches;
            RnnSequenceTests.AssertMatchesReference(acc, p, act, reverse, $"{what} {path}");
            Assert.Equal(path == RecurrencePath.Persistent ? 2 : 0, acc.PersistentLaunches - before);
        }
    }

    [Fact]
    public void Auto_on_the_cpu_accelerator_runs_every_batch_persistent_except_one_step_or_batch_invariant()
    {
        using var acc = Open("w4x3");
        RnnSequenceTests.AssertMatchesReference(acc, RnnSequenceTests.Problem.Random(4, 20, 5, 1), Activation.Tanh, false, "auto, small batch");
        Assert.Equal(2, acc.PersistentLaunches);
        RnnSequenceTests.AssertMatchesReference(acc, RnnSequenceTests.Problem.Random(IlgpuAccelerator.PersistentMaxBatch + 1, 20, 3, 2),
            Activation.Tanh, false, "auto, large batch");
        Assert.Equal(4, acc.PersistentLaunches);
        RnnSequenceTests.AssertMatchesReference(acc, RnnSequenceTests.Problem.Random(4, 20, 1, 4), Activation.Tanh, false, "auto, one step");
        Assert.Equal(4, acc.PersistentLaunches);
        using var pass = BatchInvariance.Begin();
        RnnSequenceTests.AssertMatchesReference(acc, RnnSequenceTests.Problem.Random(4, 20, 5, 3), Activation.Tanh, false, "auto, batch-invariant");
        Assert.Equal(4, acc.PersistentLaunches);
    }

    /// <summary>
    /// A grid that cannot all be resident (20 groups of one unit on 3 multiprocessors, which run their groups one after
    /// another) would hang at the first grid barrier: it gives up, the read of the results is a typed error, and from
    /// then on auto takes the step loop, whose results match the reference.
    /// </summary>
    [Fact]
    public void A_grid_that_cannot_be_resident_gives_up_with_an_error_and_auto_falls_back()
    {
        using var acc = Open("w4x3");
        acc.PersistentUnitsOverride = 1;
        acc.PersistentSpinLimit = 1 << 12;
        var p = RnnSequenceTests.Problem.Random(2, 20, 4, 5);
        using var h0 = acc.Allocate(p.H0.Length);
        using var w = acc.Allocate(p.W.Length);
        using var states = acc.Allocate(p.Pre.Length);
        acc.CopyIn(p.H0, h0);
        acc.CopyIn(p.W, w);
        acc.CopyIn(p.Pre, states);
        acc.RnnRecurrenceForward(Activation.Tanh, p.StepRows, p.Hidden, h0, w, states);
        Assert.Equal(1, acc.PersistentLaunches);
        Assert.Contains("gave up at a grid barrier", Assert.Throws<DeviceException>(() => acc.ToArray(states)).Message);

        acc.PersistentUnitsOverride = null;
        RnnSequenceTests.AssertMatchesReference(acc, p, Activation.Tanh, false, "after the timeout");
        Assert.Equal(1, acc.PersistentLaunches);
    }

    [Fact]
    public void The_plan_keeps_every_group_resident_and_refuses_what_overflows_the_barrier()
    {
        using var acc = Open("w4x3");
        // Three multiprocessors run one group each: 100 units in groups of 34, 34 and 32.
        var plan = Assert.NotNull(acc.Plan(backward: true, 2, 100, 10, out _));
        Assert.Equal((34, 3, 16), (plan.Units, plan.Groups, plan.GroupSize));
        Assert.Null(acc.Plan(backward: false, 1, 100, int.MaxValue / 2, out string why));
        Assert.Contains("overflow the barrier counter", why);
    }
}

/// <summary>
/// The persistent recurrence on a CUDA device, where ILGPU's occupancy estimate sizes the grid: forced on and off
/// against the reference, up to hidden sizes whose W_hh slices fill shared memory, and a shape whose slice cannot fit
/// is an error only when forced. Skipped without a CUDA device (CI has none).
/// </summary>
public sealed class CudaPersistentRecurrenceTests
{
    public static IEnumerable<object[]> Cases()
    {
        foreach (var act in new[] { Activation.Tanh, Activation.Relu })
        foreach (bool reverse in new[] { false, true })
        foreach (var (batch, hidden, time) in new[] { (1, 1, 3), (1, 256, 20), (4, 513, 9), (3, 1024, 6), (32, 256, 5) })
            yield return [act, reverse, batch, hidden, time];
    }

    private static IlgpuAccelerator OpenCuda()
    {
        Support.TestBackends.RequireCuda();
        return (IlgpuAccelerator)Backends.Open("cuda");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Persistent_and_step_loop_both_match_the_reference(Activation act, bool reverse, int batch, int hidden, int time)
    {
        using var acc = OpenCuda();
        var p = RnnSequenceTests.Problem.Random(batch, hidden, time, hidden + time);
        PersistentRecurrenceTests.AssertBothPathsMatch(acc, p, act, reverse, $"cuda {act} reverse={reverse} B={batch} H={hidden} T={time}");
    }

    [Fact]
    public void A_shape_whose_slice_does_not_fit_is_an_error_only_when_forced()
    {
        using var acc = OpenCuda();
        const int hidden = 16384;   // 16384 / multiprocessors rows of 64 KiB each: more than a group's 48 KB
        Assert.Null(acc.Plan(backward: false, 1, hidden, 2, out string why));
        Assert.Contains("shared memory", why);
        acc.RecurrencePath = RecurrencePath.Persistent;
        using var w = acc.Allocate((long)hidden * hidden);
        using var h0 = acc.Allocate(hidden);
        using var states = acc.Allocate(2 * hidden);
        Assert.Contains("cannot run", Assert.Throws<InvalidOperationException>(() =>
            acc.RnnRecurrenceForward(Activation.Tanh, [1, 1], hidden, h0, w, states)).Message);
        acc.RecurrencePath = RecurrencePath.Auto;
        acc.RnnRecurrenceForward(Activation.Tanh, [1, 1], hidden, h0, w, states);
        Assert.Equal(0, acc.PersistentLaunches);
    }
}
