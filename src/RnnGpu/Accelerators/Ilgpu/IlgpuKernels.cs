using ILGPU;
using ILGPU.Runtime;
using RnnGpu.Kernels;

namespace RnnGpu.Accelerators.Ilgpu;

/// <summary>Every kernel of kernels/, loaded once per accelerator (ILGPU compiles each on its first load) and kept.</summary>
internal sealed class IlgpuKernels(ILGPU.Runtime.Accelerator device)
{
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs> Gemm =
        device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(RnnGpu.Kernels.Gemm.Kernel);
    public readonly Action<KernelConfig, ArrayView<float>, long, float> Fill =
        device.LoadStreamKernel<ArrayView<float>, long, float>(Elementwise.Fill);
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, int> AddBias =
        device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long, int>(Elementwise.AddBias);
    public readonly Action<KernelConfig, ArrayView<float>, long, float> Scale =
        device.LoadStreamKernel<ArrayView<float>, long, float>(Elementwise.Scale);
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, long> Multiply =
        device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, long>(Elementwise.Multiply);
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int> StepBackwardAct =
        device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int>(Elementwise.StepBackwardAct);
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float> MseLoss =
        device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float>(Elementwise.MseLoss);
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float> BceWithLogitsLoss =
        device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float>(Elementwise.BceWithLogitsLoss);
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> SoftmaxCrossEntropy =
        device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(Elementwise.SoftmaxCrossEntropy);
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, float> ColumnSum =
        device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, float>(Reductions.ColumnSum);
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<double>, long> SquaredNormPartial =
        device.LoadStreamKernel<ArrayView<float>, ArrayView<double>, long>(Reductions.SquaredNormPartial);
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, long> SquaredNormPartialFloat =
        device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long>(Reductions.SquaredNormPartialFloat);
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float, float, float, int> SgdUpdate =
        device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float, float, float, int>(Optimizers.SgdUpdate);
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float, float, float, float, float, float> AdamUpdate =
        device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, float, float, float, float, float, float>(Optimizers.AdamUpdate);
}
