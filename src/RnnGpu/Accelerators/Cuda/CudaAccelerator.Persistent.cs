using static RnnGpu.Accelerators.Cuda.Native.CudaNative;
using static RnnGpu.Accelerators.Cuda.Native.CudaStatus;

namespace RnnGpu.Accelerators.Cuda;

/// <summary>Which recurrence the whole-sequence methods run: chosen per shape, or forced by tests.</summary>
internal enum CudaRecurrencePath
{
    /// <summary>The persistent kernel where the shape fits it and the batch is small, else the standard path.</summary>
    Auto,
    /// <summary>Always the standard path: one GEMM launch per step forwards, two per step backwards.</summary>
    Standard,
    /// <summary>Always the persistent kernel; a shape it cannot run is an error.</summary>
    Persistent,
}

/// <summary>The geometry of one persistent launch: J hidden units per block, G blocks, S warps per batch row, shared memory.</summary>
internal readonly record struct PersistentPlan(int UnitsPerBlock, int Blocks, int Splits, int SharedBytes);

/// <summary>
/// The persistent recurrent kernel (kernels/rnn_persistent.cu): a whole layer's forward or backward time
/// loop as one cooperative launch that keeps W_hh in shared memory across all steps, with a grid-wide
/// barrier per step. Used for small batches, where the standard path's per-step GEMMs are a few blocks
/// each and bound by launch latency and by re-reading W_hh.
/// </summary>
public sealed unsafe partial class CudaAccelerator
{
    internal const int PersistentThreads = 256;

    /// <summary>Auto uses the persistent kernel up to this batch. A first guess, to be tuned by measurement (docs/kernels.md).</summary>
    internal const int PersistentMaxBatch = 32;

    private const int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    /// <summary>Shared memory a block gets without opting in.</summary>
    private const int DefaultSharedBytes = 48 * 1024;
    /// <summary>The largest units-per-block with an entry point in rnn_persistent.cu.</summary>
    private const int MaxUnitsPerBlock = 16;

    /// <summary>The grid barrier's arrival counter: one uint, zeroed before each persistent launch.</summary>
    private DeviceBuffer? _arrived;
    private readonly Dictionary<nint, int> _sharedOptIn = [];
    private bool _persistentRefused;

    /// <summary>Which recurrence <see cref="Accelerator.RnnSequenceForward"/> and <see cref="Accelerator.RnnSequenceBackward"/> run.</summary>
    internal CudaRecurrencePath RecurrencePath { get; set; } = CudaRecurrencePath.Auto;

    /// <summary>Persistent launches so far: tests check which path ran.</summary>
    internal int PersistentLaunches { get; private set; }

    /// <summary>
    /// The persistent kernel's geometry for a shape, or null when it does not fit: J is the smallest power
    /// of two that needs at most one block per multiprocessor (so every block is resident, as a cooperative
    /// launch requires, with room to spare), and W_hh's J rows plus the partial sums must fit in a block's
    /// shared memory. S splits each batch row's dot products over several warps when the batch is smaller
    /// than the 8 warps of a block.
    /// </summary>
    internal static PersistentPlan? Plan(bool backward, int batch, int hidden, int multiprocessors, int maxSharedBytes)
    {
        if (batch < 1 || hidden < 1 || multiprocessors < 1) return null;
        int units = 1;
        while ((long)units * multiprocessors < hidden) units *= 2;
        if (units > MaxUnitsPerBlock) return null;
        int blocks = (int)Ceiling(hidden, units);
        const int warps = PersistentThreads / 32;
        int splits = batch >= warps ? 1 : Math.Max(1, Math.Min(warps / batch, hidden / 64));
        long floats = (long)units * hidden + (long)splits * batch * units + (backward ? (long)batch * units : 0);
        if (floats * sizeof(float) > maxSharedBytes) return null;
        return new PersistentPlan(units, blocks, splits, (int)(floats * sizeof(float)));
    }

    protected override void RnnSequenceForwardCore(Activation act, int batch, int hidden, int time, Slice h0, Slice wHh, Slice states, bool reverse)
    {
        if (PersistentFor(backward: false, batch, hidden, time) is { } p)
        {
            var call = BeginPersistent(p, backward: false);
            call.Int(act == Activation.Tanh ? ActTanh : ActRelu);
            call.Int(reverse ? 1 : 0);
            call.Int(batch);
            call.Int(hidden);
            call.Int(time);
            call.Int(p.Splits);
            call.Mem(h0);
            call.Mem(wHh);
            call.Mem(states);
            call.Mem(_arrived!.All);
            if (RunPersistent(ref call, p)) return;
        }
        base.RnnSequenceForwardCore(act, batch, hidden, time, h0, wHh, states, reverse);
    }

    protected override void RnnSequenceBackwardCore(Activation act, int batch, int hidden, int time, Slice outputs, Slice wHh, Slice dPre, Slice dh,
        Slice scratch, bool reverse)
    {
        if (PersistentFor(backward: true, batch, hidden, time) is { } p)
        {
            var call = BeginPersistent(p, backward: true);
            call.Int(act == Activation.Tanh ? ActTanh : ActRelu);
            call.Int(reverse ? 1 : 0);
            call.Int(batch);
            call.Int(hidden);
            call.Int(time);
            call.Int(p.Splits);
            call.Mem(outputs);
            call.Mem(wHh);
            call.Mem(dPre);
            call.Mem(dh);
            call.Mem(_arrived!.All);
            if (RunPersistent(ref call, p)) return;
        }
        base.RnnSequenceBackwardCore(act, batch, hidden, time, outputs, wHh, dPre, dh, scratch, reverse);
    }

    /// <summary>The plan when the persistent kernel should run this shape, else null (then the standard path runs).</summary>
    private PersistentPlan? PersistentFor(bool backward, int batch, int hidden, int time)
    {
        var path = RecurrencePath;
        if (path == CudaRecurrencePath.Standard || batch == 0 || hidden == 0 || time == 0) return null;
        // Batch-invariant: the step loop always, since the persistent kernel's sums (split by batch size) differ from it.
        if (path == CudaRecurrencePath.Auto && (BatchInvariant || batch > PersistentMaxBatch || time < 2 || _persistentRefused)) return null;
        string? why = null;
        var plan = Plan(backward, batch, hidden, _device.Multiprocessors, _device.MaxSharedPerBlockOptin);
        if (!_device.CooperativeLaunch) why = "the device does not support cooperative launches";
        else if (plan is not { } p) why = $"W_hh's rows for {hidden} hidden units do not fit in the shared memory of {_device.Multiprocessors} blocks";
        else if ((long)time * p.Blocks >= uint.MaxValue) why = $"{time} steps overflow the barrier counter";
        else if (!Resident(backward, p)) why = $"{p.Blocks} blocks of {p.SharedBytes} bytes of shared memory cannot all be resident at once";
        if (why is null) return plan;
        if (path == CudaRecurrencePath.Persistent)
            throw new InvalidOperationException($"the persistent recurrent kernel cannot run batch {batch}, hidden {hidden}, time {time} on {_device.Description}: {why}");
        return null;
    }

    /// <summary>Whether all blocks of the plan fit on the device at once (a cooperative launch refuses otherwise).</summary>
    private bool Resident(bool backward, PersistentPlan p)
    {
        nint function = _kernels.Persistent(backward, p.UnitsPerBlock);
        _context.MakeCurrent();
        if (p.SharedBytes > DefaultSharedBytes && (!_sharedOptIn.TryGetValue(function, out int optedIn) || optedIn < p.SharedBytes))
        {
            ThrowIfFailed(cuFuncSetAttribute(function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, p.SharedBytes), "cuFuncSetAttribute");
            _sharedOptIn[function] = p.SharedBytes;
        }
        int perMultiprocessor = 0;
        ThrowIfFailed(cuOccupancyMaxActiveBlocksPerMultiprocessor(&perMultiprocessor, function, PersistentThreads, (nuint)p.SharedBytes),
            "cuOccupancyMaxActiveBlocksPerMultiprocessor");
        return (long)perMultiprocessor * _device.Multiprocessors >= p.Blocks;
    }

    /// <summary>Zeroes the barrier counter (queued before the launch) and starts the launch's arguments.</summary>
    private CudaLaunch BeginPersistent(PersistentPlan p, bool backward)
    {
        _arrived ??= AllocateCore(1);
        FillCore(_arrived.All, 0f);
        return Begin(_kernels.Persistent(backward, p.UnitsPerBlock));
    }

    /// <summary>
    /// Launches; false when the driver refuses the cooperative launch as too large (another context may
    /// hold multiprocessors): Auto then stops trying and the standard path runs. Nothing ran in that case.
    /// </summary>
    private bool RunPersistent(ref CudaLaunch call, PersistentPlan p)
    {
        try
        {
            call.Run(Stream, p.Blocks, 1, 1, PersistentThreads, 1, 1, p.SharedBytes, cooperative: true);
        }
        catch (CudaException e) when (e.Status == CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE && RecurrencePath == CudaRecurrencePath.Auto)
        {
            _persistentRefused = true;
            return false;
        }
        PersistentLaunches++;
        return true;
    }
}
