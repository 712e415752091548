using System.Diagnostics;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Runtime;
using ILGPU.Runtime.OpenCL;
using RnnGpu.Kernels;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Ilgpu;

/// <summary>
/// Every ILGPU kernel through ILGPU's OpenCL back end (no device needed) for an OpenCL 2.0 GPU with doubles and the
/// generic address space (what ILGPU's OpenCL needs: Intel and AMD GPUs), and the emitted OpenCL C compiled by clang
/// (`-cl-std=CL2.0`, syntax and semantics only: no OpenCL device here runs ILGPU's code). Fails on any error. Without
/// clang the test fails in CI and is skipped elsewhere.
/// </summary>
public class OpenCLSourceCompileTests
{
    [Fact]
    public void OpenCLSource_of_every_kernel_compiles_with_clang()
    {
        const string clang = "/usr/bin/clang";
        if (!File.Exists(clang))
        {
            string why = "no clang at /usr/bin/clang: bash scripts/setup.sh installs Debian's clang";
            if (TestBackends.IsCI) Assert.Fail(why);
            Assert.Skip(why);
        }
        using var context = Context.Create(builder => builder.EnableAlgorithms());
        // In the order of ILGPU's OpenCL capabilities: Float16, Float64, GenericAddressSpace, Int64_Atomics, SubGroups.
        var capabilities = new CLCapabilityContext(false, true, true, true, false);
        using var backend = new CLBackend(context, capabilities, CLDeviceVendor.Intel, new CLCVersion(2, 0));
        string dir = Directory.CreateTempSubdirectory("rnngpu-cl-").FullName;
        try
        {
            foreach (var kernel in KernelCatalog.All)
            {
                string name = KernelCatalog.Name(kernel);
                var compiled = (CLCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), KernelSpecialization.Empty);
                string file = Path.Combine(dir, name + ".cl");
                File.WriteAllText(file, compiled.Source);
                using var process = Process.Start(new ProcessStartInfo(clang,
                    $"-x cl -cl-std=CL2.0 -Xclang -finclude-default-header -fsyntax-only {file}") { RedirectStandardError = true })!;
                string log = process.StandardError.ReadToEnd();
                process.WaitForExit();
                Assert.True(process.ExitCode == 0, $"clang rejected the OpenCL C of {name} (exit {process.ExitCode}):\n{log}");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
