using RnnGpu.Accelerators;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Cuda;

/// <summary>
/// On a machine without a CUDA device (CI, the development machines): asking for CUDA is a clear
/// <see cref="BackendUnavailableException"/>, and auto falls back with a one-line notice.
/// </summary>
public sealed class CudaUnavailableTests
{
    private static void RequireNoCuda()
    {
        if (TestBackends.HasCuda) Assert.Skip("this machine has a CUDA device: the fallback is not taken");
    }

    [Fact]
    public void Cuda_is_unavailable_with_a_reason_and_advice()
    {
        RequireNoCuda();
        var e = Assert.Throws<BackendUnavailableException>(() => Backends.Open("cuda"));
        Assert.Contains("CUDA", e.Message);
        Assert.Contains("--backend cpu", e.Message);
        Assert.DoesNotContain(Backends.ListDevices(), d => d.Backend == BackendKind.Cuda);
    }

    [Fact]
    public void Auto_falls_back_with_one_line_that_says_why()
    {
        RequireNoCuda();
        var notices = new List<string>();
        using var acc = Backends.Open("auto", notices.Add);
        Assert.NotEqual(BackendKind.Cuda, acc.Kind);
        string notice = Assert.Single(notices);
        Assert.StartsWith("auto: CUDA", notice);
        Assert.DoesNotContain('\n', notice);
        Assert.DoesNotContain("--backend", notice);
        Assert.Contains(acc.Kind == BackendKind.Cpu ? "using the CPU" : "using OpenCL", notice);
    }
}
