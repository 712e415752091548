using ILGPU;
using ILGPU.Runtime;

namespace RnnGpu.Accelerators.Ilgpu;

/// <summary>An ILGPU memory buffer of Length floats (at least one: ILGPU has no empty buffers). Kernels get sub-views of it.</summary>
internal sealed class IlgpuBuffer(Accelerator owner, long length, MemoryBuffer1D<float, Stride1D.Dense> memory) : DeviceBuffer(owner, length)
{
    public MemoryBuffer1D<float, Stride1D.Dense> Memory { get; } = memory;

    protected override void Release() => Memory.Dispose();
}
