using System.Reflection;

namespace RnnGpu.Accelerators;

/// <summary>
/// The files of kernels/, embedded in the assembly as RnnGpu.Kernels.NAME, shared by the GPU back ends:
/// the portable .cl files (OpenCL and CUDA), the CUDA-only .cu files, and the two preludes.
/// </summary>
internal static class KernelSources
{
    public const string OpenCLPrelude = "prelude_opencl.h";
    public const string CudaPrelude = "prelude_cuda.h";

    /// <summary>Every embedded portable kernel file (the .cl files), by file name.</summary>
    public static IReadOnlyList<string> KernelFiles { get; } = Embedded(".cl");

    /// <summary>Every embedded CUDA-only kernel file (the .cu files), by file name.</summary>
    public static IReadOnlyList<string> CudaOnlyFiles { get; } = Embedded(".cu");

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

    private static string[] Embedded(string extension) =>
        typeof(KernelSources).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(extension, StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..])
            .Order(StringComparer.Ordinal)
            .ToArray();
}
