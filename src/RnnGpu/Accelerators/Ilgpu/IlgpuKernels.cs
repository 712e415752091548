using ILGPU;
using ILGPU.Runtime;
using RnnGpu.Kernels;

namespace RnnGpu.Accelerators.Ilgpu;

/// <summary>
/// Every kernel of kernels/, loaded once per accelerator (ILGPU compiles each on its first load) and kept. A kernel
/// that fails to compile for the device is a <see cref="KernelCompilationException"/> with its name and ILGPU's message.
/// </summary>
internal sealed class IlgpuKernels(ILGPU.Runtime.Accelerator device, string deviceName)
{
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs> Gemm =
        Load("Gemm.Kernel", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(RnnGpu.Kernels.Gemm.Kernel));
    public readonly Action<KernelConfig, ArrayView<float>, long, float> Fill =
        Load("Elementwise.Fill", deviceName, () => device.LoadStreamKernel<ArrayView<float>, long, float>(Elementwise.Fill));
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, int> AddBias =
        Load("Elementwise.AddBias", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long, int>(Elementwise.AddBias));
    public readonly Action<KernelConfig, ArrayView<float>, long, float> Scale =
        Load("Elementwise.Scale", deviceName, () => device.LoadStreamKernel<ArrayView<float>, long, float>(Elementwise.Scale));
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, long> Multiply =
        Load("Elementwise.Multiply", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, long>(Elementwise.Multiply));
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int> StepBackwardAct =
        Load("Elementwise.StepBackwardAct", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int>(Elementwise.StepBackwardAct));
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float> MseLoss =
        Load("Elementwise.MseLoss", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float>(Elementwise.MseLoss));
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float> BceWithLogitsLoss =
        Load("Elementwise.BceWithLogitsLoss", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float>(Elementwise.BceWithLogitsLoss));
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> SoftmaxCrossEntropy =
        Load("Elementwise.SoftmaxCrossEntropy", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(Elementwise.SoftmaxCrossEntropy));
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, float> ColumnSum =
        Load("Reductions.ColumnSum", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, float>(Reductions.ColumnSum));
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<double>, long> SquaredNormPartial =
        Load("Reductions.SquaredNormPartial", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<double>, long>(Reductions.SquaredNormPartial));
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, long> SquaredNormPartialFloat =
        Load("Reductions.SquaredNormPartialFloat", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long>(Reductions.SquaredNormPartialFloat));
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float, float, float, int> SgdUpdate =
        Load("Optimizers.SgdUpdate", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float, float, float, int>(Optimizers.SgdUpdate));
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float, float, float, float, float, float> AdamUpdate =
        Load("Optimizers.AdamUpdate", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float, float, float, float, float, float>(Optimizers.AdamUpdate));

    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int> LstmForward =
        Load("Gates.LstmForward", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int>(Gates.LstmForward));
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int> LstmBackward =
        Load("Gates.LstmBackward", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int>(Gates.LstmBackward));
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int> GruForward =
        Load("Gates.GruForward", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int>(Gates.GruForward));
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, float> GruBackward =
        Load("Gates.GruBackward", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, float>(Gates.GruBackward));

    // The persistent recurrence, compiled on first use: OpenCL never runs it (no forward progress between work-groups).
    public readonly Lazy<Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, RecurrenceArgs>> RecurrenceForward =
        new(() => Load("Recurrence.Forward", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, RecurrenceArgs>(Recurrence.Forward)));
    public readonly Lazy<Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, RecurrenceArgs>> RecurrenceBackward =
        new(() => Load("Recurrence.Backward", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, RecurrenceArgs>(Recurrence.Backward)));

    // The quantized product, compiled on first use: only quantized models run it.
    public readonly Lazy<Action<KernelConfig, ArrayView<float>, ArrayView<sbyte>, ArrayView<ushort>, ArrayView<float>, ArrayView<float>, ArrayView<float>, QuantizedGemmArgs>> QuantizedGemm =
        new(() => Load("QuantizedGemm.Kernel", deviceName, () => device.LoadStreamKernel<ArrayView<float>, ArrayView<sbyte>, ArrayView<ushort>, ArrayView<float>, ArrayView<float>, ArrayView<float>, QuantizedGemmArgs>(RnnGpu.Kernels.QuantizedGemm.Kernel)));

    /// <summary>Loads (compiles) one kernel; ILGPU's compile errors name the kernel.</summary>
    internal static T Load<T>(string kernel, string deviceName, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (Exception e) when (e is not RnnGpuException and not OutOfMemoryException)
        {
            throw new KernelCompilationException(kernel, $"{deviceName}: {e.Message}", e);
        }
    }
}
