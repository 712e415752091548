using RnnGpu.Accelerators;
using RnnGpu.Model;

namespace RnnGpu.Training;

/// <summary>Validates targets and runs the loss kernels, which also write dL/dy for BPTT.</summary>
internal static class Losses
{
    /// <summary>Checks a batch-first target against the model and loss, and returns it time-major.</summary>
    public static float[] PrepareTarget(RnnConfig config, Tensor target, LossKind kind, int batch, int time)
    {
        if (!Enum.IsDefined(kind)) throw new ShapeException($"unknown loss {(int)kind}");
        int width = config.OutputWidth;
        if (kind == LossKind.CrossEntropy)
        {
            if (target.Rank != 2 || target.Shape[0] != batch || target.Shape[1] != time)
                throw new ShapeException($"cross-entropy targets have shape {target.ShapeText}, expected [{batch}, {time}] class ids");
            for (int i = 0; i < target.Length; i++)
            {
                float v = target.Data[i];
                if (!(v >= 0 && v < width && v == MathF.Floor(v)))
                    throw new ShapeException($"target class {v} at [{i / time}, {i % time}] is not an integer in [0, {width})");
            }
        }
        else
        {
            if (target.Rank != 3 || target.Shape[0] != batch || target.Shape[1] != time || target.Shape[2] != width)
                throw new ShapeException($"targets have shape {target.ShapeText}, expected [{batch}, {time}, {width}]");
            Model.RnnModel.CheckFinite(target, "target");
            if (kind == LossKind.BinaryCrossEntropy && Array.FindIndex(target.Data, v => v < 0 || v > 1) is var bad and >= 0)
                throw new ShapeException($"binary cross-entropy target {target.Data[bad]} at flat index {bad} is outside [0, 1]");
        }
        int features = kind == LossKind.CrossEntropy ? 1 : width;
        var result = new float[target.Length];
        SequenceLayout.BatchToTimeMajor(target.Data, batch, time, features, result);
        return result;
    }

    /// <summary>
    /// Uploads a time-major target, computes the mean loss of the workspace's output and writes
    /// dL/dy (already divided by the count the mean uses) where BPTT expects it.
    /// </summary>
    public static double Evaluate(RnnModel model, RnnWorkspace ws, ReadOnlySpan<float> timeMajorTarget, LossKind kind)
    {
        var acc = model.Accelerator;
        var bw = ws.Backward;
        int width = model.Config.OutputWidth, rows = ws.Time * ws.Batch;
        Slice dOut = bw.DHeadOutput?.All ?? bw.DStates[model.Config.NumLayers - 1].All;
        var target = bw.Target.Slice(0, timeMajorTarget.Length);
        acc.CopyIn(timeMajorTarget, target);

        int count;
        if (kind == LossKind.CrossEntropy)
        {
            count = rows;
            acc.SoftmaxCrossEntropy(rows, width, ws.ModelOutput, target, dOut, bw.LossValues, 1f / count);
        }
        else
        {
            count = rows * width;
            if (kind == LossKind.Mse) acc.MseLoss(count, ws.ModelOutput, target, dOut, bw.LossValues, 1f / count);
            else acc.BceWithLogitsLoss(count, ws.ModelOutput, target, dOut, bw.LossValues, 1f / count);
        }
        var values = new float[count];
        acc.CopyOut(bw.LossValues.Slice(0, count), values);
        double sum = 0;
        foreach (float v in values) sum += v;
        double mean = sum / count;
        if (!double.IsFinite(mean))
            throw new NonFiniteException($"the {kind} loss is {mean}: the step was stopped and the weights are unchanged");
        return mean;
    }

    public static double Evaluate(RnnModel model, RnnWorkspace ws, Tensor target, LossKind kind) =>
        Evaluate(model, ws, PrepareTarget(model.Config, target, kind, ws.Batch, ws.Time), kind);
}
