using System.Text.RegularExpressions;
using RnnGpu.Accelerators;

namespace RnnGpu.Tests.OpenCL;

/// <summary>
/// The kernel files keep to the portable subset that prelude_cuda.h maps onto CUDA, so that the CUDA
/// back end compiles the same files through NVRTC. Needs no device: it reads the embedded sources.
/// </summary>
public sealed partial class KernelSourceTests
{
    public static TheoryData<string> Files => new(KernelSources.KernelFiles);

    /// <summary>OpenCL C names that CUDA spells differently: a kernel may use one only if the CUDA prelude maps it.</summary>
    private static readonly string[] OpenCLNames =
    [
        "__kernel", "__global", "__local", "__constant", "__private", "restrict",
        "get_global_id", "get_local_id", "get_group_id", "get_global_size", "get_local_size", "get_num_groups",
        "barrier", "CLK_LOCAL_MEM_FENCE", "CLK_GLOBAL_MEM_FENCE",
        "exp", "log", "log1p", "tanh", "sqrt", "fabs", "fmax", "fmin", "floor",
        "native_exp", "native_log", "native_sqrt", "native_recip", "native_divide", "idx_t",
    ];

    private static string Code(string file) =>
        CommentPattern().Replace(KernelSources.Load(file), " ");

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_opencl_name_a_kernel_uses_is_mapped_by_the_cuda_prelude(string file)
    {
        string code = Code(file), prelude = CommentPattern().Replace(KernelSources.Load(KernelSources.CudaPrelude), " ");
        foreach (var name in OpenCLNames.Where(n => Regex.IsMatch(code, $@"(?<!\w){Regex.Escape(n)}(?!\w)")))
        {
            string n = Regex.Escape(name);
            Assert.True(Regex.IsMatch(prelude, $@"#define\s+{n}(?!\w)|typedef[^;]*\b{n};|__device__[^\n]*\b{n}\s*\("),
                $"{file} uses {name}, which prelude_cuda.h does not define");
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Kernels_keep_to_the_portable_subset(string file)
    {
        string code = Code(file);
        Assert.False(VectorTypePattern().IsMatch(code), $"{file} uses an OpenCL vector type: {VectorTypePattern().Match(code).Value}");
        foreach (Match signature in KernelSignaturePattern().Matches(code))
            Assert.DoesNotContain("__local", signature.Groups[1].Value);
        var literal = DoubleLiteralPattern().Match(code);
        Assert.False(literal.Success, $"{file} has a float literal without f: '{literal.Value}'");
        Assert.DoesNotContain("#include", code);
    }

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex CommentPattern();

    [GeneratedRegex(@"\b(float|double|int|uint|char|uchar|short|ushort|long|ulong|half)(2|3|4|8|16)\b")]
    private static partial Regex VectorTypePattern();

    [GeneratedRegex(@"__kernel\s+void\s+\w+\s*\(([^)]*)\)", RegexOptions.Singleline)]
    private static partial Regex KernelSignaturePattern();

    /// <summary>A decimal literal with a point or exponent and no f suffix, e.g. 1.0 or 2e-3.</summary>
    [GeneratedRegex(@"(?<![\w.])(\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][+-]?\d+)(?![\w.])")]
    private static partial Regex DoubleLiteralPattern();
}
