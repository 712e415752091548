using RnnGpu.Accelerators;

namespace RnnGpu.Tests.Support;

/// <summary>
/// The back ends every shared test runs on. Each test class takes a backend name as theory data,
/// so a test is written once and runs on every back end this build has: the CPU always, OpenCL
/// when the machine has an OpenCL device, CUDA when it has a CUDA device. In CI (CI=true) OpenCL is
/// always listed, so that a machine without a device fails its OpenCL tests instead of skipping them;
/// CI has no GPU, so CUDA is listed only where a device is present.
/// </summary>
public static class TestBackends
{
    public static TheoryData<string> Names
    {
        get
        {
            var names = new TheoryData<string>("cpu");
            if (HasOpenCL || IsCI) names.Add("opencl");
            if (HasCuda) names.Add("cuda");
            return names;
        }
    }

    public static bool IsCI => Environment.GetEnvironmentVariable("CI") == "true";

    /// <summary>Whether this machine has an OpenCL device (asked once per process).</summary>
    public static bool HasOpenCL => OpenCLPresent.Value;

    private static readonly Lazy<bool> OpenCLPresent = new(() => Backends.ListDevices().Any(d => d.Backend == BackendKind.OpenCL));

    /// <summary>Whether this machine has a CUDA device (asked once per process).</summary>
    public static bool HasCuda => CudaPresent.Value;

    private static readonly Lazy<bool> CudaPresent = new(() => Backends.ListDevices().Any(d => d.Backend == BackendKind.Cuda));

    public static Accelerator Open(string name)
    {
        if (name == "opencl" && !HasOpenCL)
        {
            // Only reached in CI: Backends.Open says why OpenCL is missing.
            try
            {
                return Backends.Open(name);
            }
            catch (BackendUnavailableException e)
            {
                throw new BackendUnavailableException(
                    $"CI=true requires an OpenCL device (install pocl-opencl-icd and ocl-icd-libopencl1), but none was found: {e.Message}");
            }
        }
        return Backends.Open(name);
    }

    /// <summary>Skips a CUDA-only test that needs a device on a machine without one (CI has none either).</summary>
    public static void RequireCuda()
    {
        if (!HasCuda) Assert.Skip("no CUDA device on this machine (no NVIDIA driver, or it shows no GPU): the CUDA back end's device tests need one");
    }

    /// <summary>Skips an OpenCL-only test on a machine without OpenCL, except in CI, where it must run.</summary>
    public static void RequireOpenCL()
    {
        if (!HasOpenCL && !IsCI) Assert.Skip("no OpenCL device on this machine");
    }
}
