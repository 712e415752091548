using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace RnnGpu.Tests.Ilgpu;

/// <summary>
/// ILGPU's CPU accelerator in its two device kinds that differ in warp size, so that no kernel assumes one:
/// "default" (warp 4, groups of at most 16 threads) and "nvidia" (warp 32, groups up to 1024). Each simulated
/// thread is an OS thread, so the tests keep groups and shapes small. A test class shares one context (which
/// compiles each kernel once) and one accelerator per kind, and disposes them after its last test, so that no
/// simulated thread outlives it.
/// </summary>
public sealed class IlgpuCpuDevices : IDisposable
{
    public static TheoryData<string> Kinds => new("default", "nvidia");

    private readonly Context _context = Context.Create(builder => builder.CPU(CPUDevice.Default).CPU(CPUDevice.Nvidia).EnableAlgorithms());
    private readonly Dictionary<string, CPUAccelerator> _accelerators = [];

    public CPUAccelerator Get(string kind)
    {
        lock (_accelerators)
        {
            if (!_accelerators.TryGetValue(kind, out var accelerator))
            {
                var device = kind == "default" ? CPUDevice.Default : CPUDevice.Nvidia;
                accelerator = device.CreateCPUAccelerator(_context);
                _accelerators[kind] = accelerator;
            }
            return accelerator;
        }
    }

    public void Dispose()
    {
        foreach (var accelerator in _accelerators.Values) accelerator.Dispose();
        _context.Dispose();
    }

    /// <summary>The GEMM's group shape on each kind: 4 x 4 where a group holds 16 threads, 8 x 4 (one warp) on "nvidia".</summary>
    public static (int X, int Y) GemmGroup(string kind) => kind == "default" ? (4, 4) : (8, 4);

    /// <summary>Groups of a grid-stride launch: a few, of the warp size, so every thread loops more than once on a long input.</summary>
    public static KernelConfig Stride1D(CPUAccelerator accelerator) => new(3, accelerator.WarpSize);

    public static MemoryBuffer1D<float, Stride1D.Dense> Upload(CPUAccelerator accelerator, float[] data)
    {
        var buffer = accelerator.Allocate1D<float>(Math.Max(data.Length, 1));
        if (data.Length > 0) buffer.View.SubView(0, data.Length).CopyFromCPU(data);
        return buffer;
    }

    public static float[] Download(MemoryBuffer1D<float, Stride1D.Dense> buffer, int length)
    {
        var data = new float[length];
        buffer.View.SubView(0, length).CopyToCPU(data);
        return data;
    }
}
