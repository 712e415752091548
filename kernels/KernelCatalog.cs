using System.Reflection;
using ILGPU;

namespace RnnGpu.Kernels;

/// <summary>
/// Every kernel of this project (an explicitly grouped ILGPU kernel: a public static void method of a kernel class
/// whose parameters are array views and scalars), for the checks that compile them all.
/// </summary>
public static class KernelCatalog
{
    private static readonly Type[] KernelClasses = [typeof(Gemm), typeof(Elementwise), typeof(Reductions), typeof(Optimizers), typeof(Recurrence), typeof(Gates), typeof(QuantizedGemm)];

    public static IReadOnlyList<MethodInfo> All { get; } = KernelClasses
        .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
        .Where(m => m.ReturnType == typeof(void) && m.GetParameters().Any(p => p.ParameterType == typeof(ArrayView<float>)))
        .ToArray();

    /// <summary>The kernels whose speed rests on registers: ptxas must not spill them.</summary>
    public static bool MustNotSpill(MethodInfo kernel) => kernel.DeclaringType == typeof(Gemm) || kernel.DeclaringType == typeof(QuantizedGemm) || kernel.DeclaringType == typeof(Recurrence);

    public static string Name(MethodInfo kernel) => $"{kernel.DeclaringType!.Name}.{kernel.Name}";
}
