using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using RnnGpu.Kernels;

namespace RnnGpu.Accelerators.Ilgpu;

/// <summary>Which recurrence the whole-sequence methods run: chosen per shape, or forced by tests.</summary>
internal enum RecurrencePath
{
    /// <summary>The persistent kernel where the device and shape allow it and the batch is small, else the step loop.</summary>
    Auto,
    /// <summary>Always the step loop: one GEMM launch per step forwards, two launches per step backwards.</summary>
    Standard,
    /// <summary>Always the persistent kernel; a shape or device it cannot run is an error.</summary>
    Persistent,
}

/// <summary>The geometry of one persistent launch: Units hidden units per group, Groups groups of GroupSize threads, Lanes threads per output.</summary>
internal readonly record struct PersistentPlan(int Units, int Groups, int GroupSize, int Lanes);

/// <summary>
/// The persistent recurrence (<see cref="Recurrence"/>): a layer's whole forward or backward time loop as one launch
/// that keeps W_hh on chip, with a software grid barrier per step. It runs where every group of the grid can be
/// resident at once: on CUDA, as ILGPU's occupancy estimate says; on ILGPU's CPU accelerator, one group per simulated
/// multiprocessor (each runs its groups one after another). Not on OpenCL, which promises no forward progress between
/// work-groups, so a spinning barrier could wait forever.
/// </summary>
public sealed partial class IlgpuAccelerator
{
    /// <summary>On a GPU, auto uses the persistent kernel up to this batch: beyond it the step loop's GEMMs fill the device.</summary>
    internal const int PersistentMaxBatch = 32;

    /// <summary>The grid barrier's arrival counter, cleared before each persistent launch.</summary>
    private MemoryBuffer1D<int, Stride1D.Dense>? _barrier;

    /// <summary>The packed steps of the last launch ([2 T]: rows, first row), on the device and here.</summary>
    private MemoryBuffer1D<int, Stride1D.Dense>? _steps;
    private int[] _stepsHost = [];

    internal RecurrencePath RecurrencePath { get; set; } = RecurrencePath.Auto;

    /// <summary>
    /// Polls of a grid barrier before the kernel gives up on a group that never arrives: on a GPU 2^24 device-wide
    /// atomics, seconds, far past any step's wait. On ILGPU's CPU accelerator every group of a planned grid runs on a
    /// simulated multiprocessor of its own, but its threads are OS threads that may wait long for a core, so there the
    /// barrier never gives up (0). Tests set a small limit.
    /// </summary>
    internal int PersistentSpinLimit { get; set; }

    /// <summary>Hidden units per group instead of the plan's (tests use it to make a grid that cannot be resident).</summary>
    internal int? PersistentUnitsOverride { get; set; }

    /// <summary>A persistent launch ran since the timed-out flag was last read.</summary>
    private bool _persistentUnchecked;

    /// <summary>A grid barrier timed out on this device: auto no longer takes the persistent kernel here.</summary>
    private bool _persistentRefused;

    /// <summary>Persistent launches so far: tests check which path ran.</summary>
    internal int PersistentLaunches { get; private set; }

    /// <summary>
    /// The persistent geometry for a shape, or why there is none. Units is the fewest hidden units per group that
    /// keeps the grid within the groups that can be resident; its W_hh slice and one partial per thread must fit in a
    /// group's shared memory. Lanes splits each output's dot product over the threads that the group's outputs leave
    /// idle (a power of two, at most the hidden size; 1 when the outputs are at least the group's threads).
    /// </summary>
    internal PersistentPlan? Plan(bool backward, int batch, int hidden, int time, out string why)
    {
        why = "";
        int groupSize = _group, multiprocessors = Math.Max(1, _device.NumMultiprocessors);
        if (_device is not (CPUAccelerator or CudaAccelerator))
        {
            why = "OpenCL promises no forward progress between work-groups, which the grid barrier needs";
            return null;
        }
        // First guess: one group per multiprocessor; then the occupancy estimate of that shape decides.
        int units = PersistentUnitsOverride ?? (hidden + multiprocessors - 1) / multiprocessors;
        long sharedBytes = Recurrence.SharedFloats(units, hidden, groupSize) * sizeof(float);
        if (sharedBytes > _device.MaxSharedMemoryPerGroup)
        {
            why = $"W_hh's {units} rows of {hidden} need {sharedBytes:N0} bytes of shared memory a group, more than {_device.MaxSharedMemoryPerGroup:N0}";
            return null;
        }
        int groups = (hidden + units - 1) / units;
        int resident = _device is CPUAccelerator ? multiprocessors : ResidentGroups(backward, groupSize, (int)sharedBytes) ;
        if (groups > resident && PersistentUnitsOverride is null)
        {
            why = $"{groups} groups of {sharedBytes:N0} bytes of shared memory cannot all be resident at once (at most {resident})";
            return null;
        }
        if ((long)time * groups >= int.MaxValue || (long)time * batch >= int.MaxValue || (long)batch * units >= int.MaxValue)
        {
            why = $"{time} steps over {groups} groups (or of {batch} rows of {units} units) overflow the barrier counter or the kernel's indices";
            return null;
        }
        int outputs = Math.Min(batch * units, groupSize), lanes = 1;
        while (lanes * 2 * outputs <= groupSize && lanes * 2 <= hidden) lanes *= 2;
        return new PersistentPlan(units, groups, groupSize, lanes);
    }

    private int ResidentGroups(bool backward, int groupSize, int sharedBytes)
    {
        var kernel = backward ? _kernels.RecurrenceBackward.Value.GetKernel() : _kernels.RecurrenceForward.Value.GetKernel();
        return _device.EstimateMaxActiveGroupsPerMultiprocessor(kernel, groupSize, sharedBytes) * _device.NumMultiprocessors;
    }

    protected override void RnnRecurrenceForwardCore(Activation act, ReadOnlySpan<int> stepRows, int hidden, Slice h0, Slice wHh, Slice states,
        bool reverse)
    {
        if (PersistentFor(backward: false, stepRows[0], hidden, stepRows.Length) is { } p)
        {
            var args = Args(p, act, stepRows[0], hidden, stepRows.Length, reverse);
            var steps = UploadSteps(stepRows, out long rows);
            Kernels.RecurrenceForward.Value(Recurrence.Config(args, p.GroupSize), View(h0, (long)stepRows[0] * hidden), View(wHh, (long)hidden * hidden),
                View(states, rows * hidden), steps, ClearedBarrier(), args);
            PersistentLaunches++;
            return;
        }
        base.RnnRecurrenceForwardCore(act, stepRows, hidden, h0, wHh, states, reverse);
    }

    protected override void RnnRecurrenceBackwardCore(Activation act, ReadOnlySpan<int> stepRows, int hidden, Slice outputs, Slice wHh, Slice dPre,
        Slice dh, Slice scratch, bool reverse)
    {
        if (PersistentFor(backward: true, stepRows[0], hidden, stepRows.Length) is { } p)
        {
            var args = Args(p, act, stepRows[0], hidden, stepRows.Length, reverse);
            var steps = UploadSteps(stepRows, out long rows);
            Kernels.RecurrenceBackward.Value(Recurrence.Config(args, p.GroupSize), View(outputs, rows * hidden), View(wHh, (long)hidden * hidden),
                View(dPre, rows * hidden), View(dh, (long)stepRows[0] * hidden), steps, ClearedBarrier(), args);
            PersistentLaunches++;
            return;
        }
        base.RnnRecurrenceBackwardCore(act, stepRows, hidden, outputs, wHh, dPre, dh, scratch, reverse);
    }

    /// <summary>The steps' rows and first rows, [2 T] ints, copied to the device (buffers kept and grown); the total rows.</summary>
    private ArrayView<int> UploadSteps(ReadOnlySpan<int> stepRows, out long rows)
    {
        int n = 2 * stepRows.Length;
        if (_stepsHost.Length < n) _stepsHost = new int[Math.Max(n, 2 * _stepsHost.Length)];
        rows = 0;
        for (int t = 0; t < stepRows.Length; t++)
        {
            _stepsHost[2 * t] = stepRows[t];
            _stepsHost[2 * t + 1] = (int)rows;
            rows += stepRows[t];
        }
        _device.Bind();
        if (_steps is null || _steps.Length < n)
        {
            _steps?.Dispose();
            _steps = _device.Allocate1D<int>(_stepsHost.Length);
        }
        ArrayView<int> view = _steps.View.SubView(0, n);
        view.CopyFromCPU(_stepsHost.AsSpan(0, n));
        return view;
    }

    /// <summary>The plan when the persistent kernel should run this shape, else null (then the step loop runs).</summary>
    private PersistentPlan? PersistentFor(bool backward, int batch, int hidden, int time)
    {
        var path = RecurrencePath;
        if (path == RecurrencePath.Standard || batch == 0 || hidden == 0 || time == 0) return null;
        // Batch-invariant: the step loop always, since the persistent kernel splits its sums by the batch size.
        // On ILGPU's CPU accelerator one launch per sequence beats a launch per step at every batch measured (batch 4 to
        // 128, docs/kernels.md): each launch wakes every simulated thread.
        int maxBatch = _device is CPUAccelerator ? int.MaxValue : PersistentMaxBatch;
        if (path == RecurrencePath.Auto && (BatchInvariant || batch > maxBatch || time < 2 || _persistentRefused)) return null;
        var plan = Plan(backward, batch, hidden, time, out string why);
        if (plan is null && path == RecurrencePath.Persistent)
            throw new InvalidOperationException($"the persistent recurrence cannot run batch {batch}, hidden {hidden}, time {time} on {DeviceName}: {why}");
        return plan;
    }

    private RecurrenceArgs Args(PersistentPlan p, Activation act, int batch, int hidden, int time, bool reverse) => new()
    {
        Batch = batch, Hidden = hidden, Time = time, Act = ActOf(act), Reverse = reverse ? 1 : 0, Units = p.Units, Lanes = p.Lanes,
        SpinLimit = PersistentSpinLimit,
    };

    /// <summary>
    /// The barrier's [arrivals, timed out]: the arrivals zeroed on the stream before the launch that uses it; the flag
    /// stays until <see cref="CheckPersistentTimeout"/> reads it, so no later launch hides an earlier timeout.
    /// </summary>
    private ArrayView<int> ClearedBarrier()
    {
        _device.Bind();
        if (_barrier is null)
        {
            _barrier = _device.Allocate1D<int>(2);
            _barrier.MemSetToZero();
        }
        _barrier.View.SubView(0, 1).MemSetToZero();
        _persistentUnchecked = true;
        return _barrier.View;
    }

    /// <summary>
    /// Before the host reads results: if a persistent launch's grid barrier timed out (a group was not resident, as
    /// with another process on the GPU or an MPS thread limit), its results are wrong, so this is an error, and auto
    /// takes the step loop from now on. Waits for the queued work, as every reader of results does anyway.
    /// </summary>
    private void CheckPersistentTimeout()
    {
        if (!_persistentUnchecked) return;
        _persistentUnchecked = false;
        Span<int> flag = stackalloc int[1];
        ArrayView<int> timedOut = _barrier!.View.SubView(1, 1);
        timedOut.CopyToCPU(flag);
        if (flag[0] == 0) return;
        timedOut.MemSetToZero();
        _persistentRefused = true;
        throw new DeviceException($"{DeviceName}: the persistent recurrence gave up at a grid barrier: not every group of its grid was resident " +
            "(another process on the device, or a limit on its threads), so the results of the recurrences since the last read are wrong; " +
            "this accelerator runs the step loop from now on");
    }
}
