using RnnGpu.Accelerators;

namespace RnnGpu.Benchmarks;

/// <summary>The back ends present on this machine; the CPU is always first, as the baseline.</summary>
public static class BenchBackends
{
    public static IEnumerable<string> Names =>
        Backends.ListDevices().Select(d => d.Backend.ToString().ToLowerInvariant()).Distinct();
}
