using RnnGpu.Accelerators;

namespace RnnGpu.Benchmarks;

/// <summary>
/// The back ends present on this machine; the CPU first, as the baseline of <see cref="CpuRatioColumn"/>. Not ILGPU's
/// CPU accelerator, which simulates a GPU thread by thread for tests (`rnngpu bench --backend ilgpu-cpu` times it).
/// </summary>
public static class BenchBackends
{
    public const string Cpu = "cpu";

    public static IEnumerable<string> Names =>
        Backends.ListDevices().Select(d => d.Backend).Where(k => k != BackendKind.IlgpuCpu).Select(k => k.Name()).Distinct().OrderBy(name => name != Cpu);
}
