namespace RnnGpu;

/// <summary>Base of every error the engine raises on purpose: bad input, bad files, missing devices.</summary>
public class RnnGpuException : Exception
{
    public RnnGpuException(string message) : base(message) { }
    public RnnGpuException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A tensor or argument has the wrong shape or an out-of-range value.</summary>
public sealed class ShapeException(string message) : RnnGpuException(message);

/// <summary>A file is unreadable, truncated, or does not say what its header claims.</summary>
public sealed class FileFormatException(string path, string problem)
    : RnnGpuException($"{path}: {problem}")
{
    public string Path { get; } = path;
    public string Problem { get; } = problem;
}

/// <summary>A loss or gradient became NaN or infinite; the step was refused and the weights are untouched.</summary>
public sealed class NonFiniteException(string message) : RnnGpuException(message);

/// <summary>The requested back end or device is not available on this machine.</summary>
public sealed class BackendUnavailableException(string message) : RnnGpuException(message);

/// <summary>A device failed an operation: the driver's or ILGPU's own error, named in the message.</summary>
public class DeviceException(string message, Exception? inner = null) : RnnGpuException(message, inner!);

/// <summary>
/// The device has no memory left for a buffer. Nothing was allocated: the accelerator and every buffer it holds stay
/// usable, and freeing buffers (or a smaller batch) lets the next allocation succeed.
/// </summary>
public sealed class DeviceOutOfMemoryException(string message, Exception? inner = null) : DeviceException(message, inner);

/// <summary>A kernel did not compile for the device: its name and ILGPU's message.</summary>
public sealed class KernelCompilationException(string kernel, string message, Exception? inner = null)
    : DeviceException($"kernel {kernel} did not compile: {message}", inner)
{
    public string Kernel { get; } = kernel;
}
