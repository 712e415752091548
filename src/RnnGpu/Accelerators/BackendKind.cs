namespace RnnGpu.Accelerators;

public enum BackendKind
{
    Cpu,
    OpenCL,
    Cuda,
    /// <summary>The ILGPU kernels on ILGPU's CPU accelerator (`--backend ilgpu-cpu`): for tests and debugging.</summary>
    IlgpuCpu,
}

public static class BackendKindNames
{
    /// <summary>The name that opens the back end (`--backend`, <see cref="Backends.Open"/>).</summary>
    public static string Name(this BackendKind kind) => kind switch
    {
        BackendKind.IlgpuCpu => "ilgpu-cpu",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
