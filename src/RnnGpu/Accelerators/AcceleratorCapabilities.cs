namespace RnnGpu.Accelerators;

/// <summary>
/// What a back end can do, for the code above the contract to branch on instead of on which back end it is.
/// </summary>
/// <param name="ParallelCallers">
/// Threads may call the accelerator at once, and each call computes on its caller's thread (the CPU back end): a
/// server then runs several batches side by side. False where the work of every call queues on one device stream (the
/// ILGPU back end): more callers add nothing, and a server runs one executor.
/// </param>
/// <param name="Threads">The threads a kernel may use (1 on a device, where the device does the work).</param>
/// <param name="HostMemory">Buffers are host memory that <see cref="Accelerator.TryGetHostSpan"/> exposes in place.</param>
/// <param name="Float64">The device accumulates <see cref="Accelerator.SquaredNorm"/> in double (else in float, summed in double).</param>
public sealed record AcceleratorCapabilities(bool ParallelCallers, int Threads, bool HostMemory, bool Float64);
