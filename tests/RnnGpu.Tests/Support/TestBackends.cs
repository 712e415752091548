using RnnGpu.Accelerators;

namespace RnnGpu.Tests.Support;

/// <summary>
/// The back ends every shared test runs on. Each test class takes a backend name as theory data, so a test is
/// written once and runs on every back end this build has: the CPU and the ILGPU kernels on ILGPU's CPU accelerator
/// always (it needs no device, so it never skips), and the same kernels on CUDA and on OpenCL where the machine has a
/// device ILGPU can use (CI has neither).
/// </summary>
public static class TestBackends
{
    public static TheoryData<string> Names
    {
        get
        {
            var names = new TheoryData<string>("cpu", "ilgpu-cpu");
            if (HasOpenCL) names.Add("opencl");
            if (HasCuda) names.Add("cuda");
            return names;
        }
    }

    /// <summary>CI=true: checks that need a tool setup.sh installs (ptxas, clang) fail there rather than skip.</summary>
    public static bool IsCI => Environment.GetEnvironmentVariable("CI") == "true";

    /// <summary>Whether this machine has an OpenCL device that ILGPU can use (asked once per process).</summary>
    public static bool HasOpenCL => OpenCLPresent.Value;

    private static readonly Lazy<bool> OpenCLPresent = new(() => Backends.ListDevices().Any(d => d.Backend == BackendKind.OpenCL));

    /// <summary>Whether this machine has a CUDA device (asked once per process).</summary>
    public static bool HasCuda => CudaPresent.Value;

    private static readonly Lazy<bool> CudaPresent = new(() => Backends.ListDevices().Any(d => d.Backend == BackendKind.Cuda));

    public static Accelerator Open(string name) => Backends.Open(name);

    /// <summary>Skips a CUDA-only test that needs a device on a machine without one (CI has none either).</summary>
    public static void RequireCuda()
    {
        if (!HasCuda) Assert.Skip("no CUDA device on this machine (no NVIDIA driver, or it shows no GPU): the CUDA back end's device tests need one");
    }
}
