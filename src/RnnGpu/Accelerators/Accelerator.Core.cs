namespace RnnGpu.Accelerators;

/// <summary>What a back end implements: arguments have been checked by the public methods.</summary>
public abstract partial class Accelerator
{
    protected abstract DeviceBuffer AllocateCore(long length);
    protected abstract void CopyInCore(ReadOnlySpan<float> source, Slice destination);
    protected abstract void CopyOutCore(Slice source, Span<float> destination);
    protected abstract void CopyCore(Slice source, Slice destination);
    protected abstract void FillCore(Slice destination, float value);
    protected abstract void GemmCore(in GemmSpec spec, Slice a, Slice b, Slice c);
    protected abstract void AddBiasCore(int rows, int cols, Slice bias, Slice y);
    protected abstract void ColumnSumCore(int rows, int cols, Slice x, Slice sum, float beta);
    protected abstract void RnnStepForwardCore(Activation act, int batch, int hidden, Slice pre, Slice hPrev, Slice wHh, Slice h);
    protected abstract void RnnStepBackwardCore(Activation act, int batch, int hidden, Slice h, Slice wHh, Slice dhNext, Slice dPre, Slice dhPrev);
    protected abstract void SoftmaxCrossEntropyCore(int rows, int classes, Slice logits, Slice targets, Slice dLogits, Slice loss, float gradScale);
    protected abstract void MseLossCore(int n, Slice pred, Slice target, Slice dPred, Slice loss, float gradScale);
    protected abstract void BceWithLogitsLossCore(int n, Slice logits, Slice target, Slice dLogits, Slice loss, float gradScale);
    protected abstract void MultiplyCore(Slice a, Slice b, Slice y);
    protected abstract void ScaleCore(Slice x, float alpha);
    protected abstract double SquaredNormCore(Slice x);
    protected abstract void SgdUpdateCore(Slice param, Slice grad, Slice momentum, in SgdStep step);
    protected abstract void AdamUpdateCore(Slice param, Slice grad, Slice m, Slice v, in AdamStep step);
}
