using System.Reflection;

namespace RnnGpu.Accelerators.OpenCL;

/// <summary>The files of kernels/, embedded in the assembly as RnnGpu.Kernels.NAME.</summary>
internal static class KernelSources
{
    public const string OpenCLPrelude = "prelude_opencl.h";
    public const string CudaPrelude = "prelude_cuda.h";

    /// <summary>Every embedded kernel file (the .cl files), by file name.</summary>
    public static IReadOnlyList<string> KernelFiles { get; } =
        typeof(KernelSources).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".cl", StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..])
            .Order(StringComparer.Ordinal)
            .ToArray();

    private const string Prefix = "RnnGpu.Kernels.";

    public static string Load(string file)
    {
        using var stream = typeof(KernelSources).Assembly.GetManifestResourceStream(Prefix + file)
            ?? throw new InvalidOperationException($"kernel file {file} is not embedded in {typeof(KernelSources).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// What a back end compiles: its prelude, then the kernel file under a #line directive, so that the
    /// compiler's messages name the kernel file and its own line numbers.
    /// </summary>
    public static string Compose(string prelude, string file, string source) =>
        $"{Load(prelude)}\n#line 1 \"{file}\"\n{source}";
}
