using System.Diagnostics;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using RnnGpu.Kernels;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Ilgpu;

/// <summary>
/// Every ILGPU kernel compiled to PTX by ILGPU's PTX back end (no GPU needed) and assembled by ptxas 11.8 for sm_90
/// (H100/H200) and sm_80 (A100): any error fails, and so do a register spill in the kernels that must not spill and
/// the approximate tanh instruction.
/// Prints registers and shared memory per kernel. ptxas comes from scripts/setup.sh; without it the test fails in CI
/// and is skipped elsewhere.
/// </summary>
public partial class PtxCompileTests(ITestOutputHelper output)
{
    public static TheoryData<string> Architectures => new("sm_90", "sm_80");

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Ptx_of_every_kernel_assembles_with_ptxas_without_spills(string arch)
    {
        string ptxas = FindPtxas();
        using var context = Context.Create(builder => builder.EnableAlgorithms());
        var architecture = arch == "sm_90" ? CudaArchitecture.SM_90 : CudaArchitecture.SM_80;
        // PTX ISA 7.8 is the newest ptxas 11.8 reads, and enough for sm_90.
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, CudaInstructionSet.ISA_78, null);
        string dir = Directory.CreateTempSubdirectory("rnngpu-ptx-").FullName;
        try
        {
            foreach (var kernel in KernelCatalog.All)
            {
                string name = KernelCatalog.Name(kernel);
                var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), KernelSpecialization.Empty);
                string file = Path.Combine(dir, name + ".ptx");
                File.WriteAllText(file, compiled.PTXAssembly);
                // XMath.Tanh would become tanh.approx.f32 (about 5e-4 relative error): the kernels use DeviceMath.Tanh.
                Assert.DoesNotContain("tanh.approx", compiled.PTXAssembly);
                var (exit, log) = Run(ptxas, $"-arch={arch} -v -o {Path.Combine(dir, name + ".cubin")} {file}");
                Assert.True(exit == 0, $"ptxas {arch} failed on {name} (exit {exit}):\n{log}");
                var usage = UsageLine().Match(log);
                Assert.True(usage.Success, $"ptxas {arch} printed no resource usage for {name}:\n{log}");
                var spills = SpillLine().Match(log);
                int spilled = spills.Success ? int.Parse(spills.Groups[1].Value) + int.Parse(spills.Groups[2].Value) : 0;
                output.WriteLine($"{arch} {name}: {usage.Value.Trim()}; {(spills.Success ? spills.Value.Trim() : "no spill report")}");
                if (KernelCatalog.MustNotSpill(kernel))
                    Assert.True(spills.Success && spilled == 0, $"{name} spills registers on {arch}:\n{log}");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string FindPtxas()
    {
        string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        string path = Path.Combine(cache, "rnngpu", "cuda-toolkit-11.8", "ptxas");
        if (File.Exists(path)) return path;
        string why = $"no ptxas at {path}: bash scripts/setup.sh unpacks it from Debian's nvidia-cuda-toolkit";
        if (TestBackends.IsCI) Assert.Fail(why);
        Assert.Skip(why);
        return path;
    }

    private static (int Exit, string Log) Run(string program, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }

    [GeneratedRegex(@"Used \d+ registers[^\n]*")]
    private static partial Regex UsageLine();

    [GeneratedRegex(@"(\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex SpillLine();
}
