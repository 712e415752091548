using RnnGpu.Accelerators;

namespace RnnGpu.Benchmarks;

/// <summary>The back ends present on this machine; the CPU first, as the baseline of <see cref="CpuRatioColumn"/>.</summary>
public static class BenchBackends
{
    public const string Cpu = "cpu";

    public static IEnumerable<string> Names =>
        Backends.ListDevices().Select(d => d.Backend.ToString().ToLowerInvariant()).Distinct().OrderBy(name => name != Cpu);
}
