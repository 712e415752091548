using RnnGpu.Model;

namespace RnnGpu.Training;

/// <summary>torch.nn.utils.clip_grad_norm_ over every gradient of one or more models: the one clipping of every trainer.</summary>
internal static class GradientClipping
{
    /// <summary>A clip norm is a positive finite number (null: no clipping).</summary>
    public static void Check(float? clipNorm)
    {
        if (clipNorm is { } c && !(c > 0 && float.IsFinite(c))) throw new ShapeException($"clip norm {c} must be a positive finite number");
    }

    /// <summary>
    /// The global L2 norm of the models' gradients, before clipping; with <paramref name="clipNorm"/>, every gradient is
    /// scaled by clip / (norm + 1e-6) when that is below 1. A non-finite norm stops the step before any weight changes.
    /// </summary>
    public static double Clip(float? clipNorm, params ReadOnlySpan<RnnModel> models)
    {
        double squares = 0;
        foreach (var model in models) squares += model.Accelerator.SquaredNorm(model.Gradients);
        double norm = Math.Sqrt(squares);
        if (!double.IsFinite(norm))
            throw new NonFiniteException($"the gradient norm is {norm}: the step was stopped and the weights are unchanged");
        if (clipNorm is { } clip && clip / (norm + 1e-6) is var coef && coef < 1)
            foreach (var model in models) model.Accelerator.Scale(model.Gradients, (float)coef);
        return norm;
    }
}
