using RnnGpu.Accelerators;
using RnnGpu.Model;

namespace RnnGpu.Training;

/// <summary>Validates targets and runs the loss kernels, which also write dL/dy for BPTT.</summary>
internal static class Losses
{
    /// <summary>
    /// Checks a batch-first target against the model, the loss and the layout, and returns it packed like
    /// the model's output: [Rows, O] (or [Rows] class ids), or [B, O] / [B] in sorted order many-to-one.
    /// Targets at padded steps are not checked and not used.
    /// </summary>
    public static float[] PrepareTarget(RnnConfig config, Tensor target, LossKind kind, StepLayout layout)
    {
        int features = CheckTarget(config, target, kind, layout);
        return config.ManyToOne
            ? layout.SortRows(target.Data, 1, features, toSorted: true)
            : layout.Pack(target.Data, features);
    }

    /// <summary>
    /// <see cref="PrepareTarget"/> into reused memory (a workspace's staging, or the device's target buffer where the
    /// host can write it) without the checks, for the training loop after <see cref="CheckTarget"/> passed on the
    /// whole batch: returns the packed part.
    /// </summary>
    public static ReadOnlySpan<float> PackCheckedTarget(RnnConfig config, Tensor target, LossKind kind, StepLayout layout, Span<float> staging, int threads)
    {
        if (config.ManyToOne) return PrepareTarget(config, target, kind, layout);   // [B, O]: small
        int features = kind == LossKind.CrossEntropy ? 1 : config.OutputWidth;
        layout.PackInto(target.Data, features, staging, threads);
        return staging[..(layout.Rows * features)];
    }

    /// <summary>
    /// Where <see cref="PackCheckedTarget"/> packs a target of the workspace's layout: the device's target buffer
    /// where the host can write it, else the workspace's staging (many-to-one packs its small [B, *] itself).
    /// </summary>
    public static Span<float> TargetSpace(RnnPass pass)
    {
        if (pass.Config.ManyToOne) return [];
        long length = (long)pass.Layout.Rows * pass.Config.OutputWidth;
        return pass.Accelerator.TryGetHostSpan(pass.Buffers.Backward.Target.Slice(0, length), out var direct) ? direct : pass.Buffers.TargetStaging(length);
    }

    /// <summary>The checks of <see cref="PrepareTarget"/>; returns the features per packed row (1 for class ids).</summary>
    public static int CheckTarget(RnnConfig config, Tensor target, LossKind kind, StepLayout layout)
    {
        if (!Enum.IsDefined(kind)) throw new ShapeException($"unknown loss {(int)kind}");
        int width = config.OutputWidth, batch = layout.Batch, time = layout.Time;
        bool classes = kind == LossKind.CrossEntropy;
        int[] expected = (config.ManyToOne, classes) switch
        {
            (true, true) => [batch],
            (true, false) => [batch, width],
            (false, true) => [batch, time],
            _ => [batch, time, width],
        };
        if (!target.Shape.AsSpan().SequenceEqual(expected))
            throw new ShapeException($"{(classes ? "cross-entropy targets" : "targets")} have shape {target.ShapeText}, expected [{string.Join(", ", expected)}]{(classes ? " class ids" : "")}");
        int features = classes ? 1 : width;
        int steps = config.ManyToOne ? 1 : time;
        for (int b = 0; b < batch; b++)
        {
            int real = config.ManyToOne ? 1 : layout.LengthOf(b);   // padded steps are neither checked nor used
            if (kind == LossKind.Mse)
            {
                // Only finiteness to check: one vectorised pass over the sequence's real steps.
                int bad = Finite.FirstNonFinite(target.Data.AsSpan(b * steps * features, real * features));
                if (bad >= 0) CheckValue(target.Data[b * steps * features + bad], kind, width, b, config.ManyToOne ? -1 : bad / features);
                continue;
            }
            for (int t = 0; t < real; t++)
            for (int k = 0; k < features; k++)
                CheckValue(target.Data[(b * steps + t) * features + k], kind, width, b, config.ManyToOne ? -1 : t);
        }
        return features;
    }

    /// <summary>One target value of sequence b at step t (t = -1 many-to-one); the position is formatted only for the error.</summary>
    private static void CheckValue(float v, LossKind kind, int width, int b, int t)
    {
        if (kind == LossKind.CrossEntropy && !(v >= 0 && v < width && v == MathF.Floor(v)))
            throw new ShapeException($"target class {v} at {At(b, t)} is not an integer in [0, {width})");
        if (kind != LossKind.CrossEntropy && !float.IsFinite(v))
            throw new ShapeException($"target holds a non-finite value ({v}) at {At(b, t)}");
        if (kind == LossKind.BinaryCrossEntropy && (v < 0 || v > 1))
            throw new ShapeException($"binary cross-entropy target {v} at {At(b, t)} is outside [0, 1]");
    }

    private static string At(int b, int t) => t < 0 ? $"[{b}]" : $"[{b}, {t}]";

    /// <summary>
    /// Uploads a packed target, computes the mean loss of the workspace's output over the real steps,
    /// and writes dL/dy (already divided by the count the mean uses) where BPTT expects it.
    /// </summary>
    public static double Evaluate(RnnPass pass, ReadOnlySpan<float> packedTarget, LossKind kind)
    {
        var acc = pass.Accelerator;
        var config = pass.Config;
        var ws = pass.Buffers;
        var bw = ws.Backward;
        int width = config.OutputWidth, rows = config.ManyToOne ? ws.Batch : ws.Layout.Rows;
        long n = (long)rows * width;
        Slice output, dOut;
        if (bw.DHeadOutput is { } dHead)
        {
            output = ws.HeadOutput!.Slice(0, n);
            dOut = dHead.Slice(0, n);
        }
        else if (config.Directions == 1)
        {
            output = ws.Outputs(config.NumLayers - 1, 0);
            dOut = bw.DStates[config.NumLayers - 1, 0].Slice(0, n);
        }
        else throw new ShapeException("a bidirectional model without a head cannot be trained on its raw states; give it a head");

        var target = bw.Target.Slice(0, packedTarget.Length);
        // A target packed straight into host-visible device memory is there already.
        if (!acc.TryGetHostSpan(target, out var inPlace) || !inPlace.Overlaps(packedTarget)) acc.CopyIn(packedTarget, target);
        int count;
        if (kind == LossKind.CrossEntropy)
        {
            count = rows;
            acc.SoftmaxCrossEntropy(rows, width, output, target, dOut, bw.LossValues, 1f / count);
        }
        else
        {
            count = (int)n;
            if (kind == LossKind.Mse) acc.MseLoss(count, output, target, dOut, bw.LossValues, 1f / count);
            else acc.BceWithLogitsLoss(count, output, target, dOut, bw.LossValues, 1f / count);
        }
        var lossValues = bw.LossValues.Slice(0, count);
        if (!acc.TryGetHostSpan(lossValues, out var values))
        {
            values = ws.Staging(count).AsSpan(0, count);   // the input's staging: the input is on the device by now
            acc.CopyOut(lossValues, values);
        }
        double mean = SumInDouble(values) / count;
        if (!double.IsFinite(mean))
            throw new NonFiniteException($"the {kind} loss is {mean}: the step was stopped and the weights are unchanged");
        return mean;
    }

    /// <summary>Σ values accumulated in double (a float sum of a million squared errors would lose digits), 8 lanes at a time.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static double SumInDouble(ReadOnlySpan<float> values)
    {
        var acc = System.Runtime.Intrinsics.Vector256<double>.Zero;
        int i = 0;
        for (; i + 8 <= values.Length; i += 8)
        {
            var (lo, hi) = System.Runtime.Intrinsics.Vector256.Widen(System.Runtime.Intrinsics.Vector256.Create(values.Slice(i, 8)));
            acc += lo + hi;
        }
        double sum = System.Runtime.Intrinsics.Vector256.Sum(acc);
        for (; i < values.Length; i++) sum += values[i];
        return sum;
    }
}
