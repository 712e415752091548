using RnnGpu.Training;

namespace RnnGpu.Model;

public sealed partial class RnnModel
{
    /// <summary>
    /// Loss and every gradient for one batch: parameters (by PyTorch name), input [B, T, I] (zeros past
    /// each sequence's end) and initial state [L * D, B, H]. Does not change the weights. Target: see
    /// <see cref="LossKind"/>. With <paramref name="dropout"/>, the training-mode pass with its next masks.
    /// <paramref name="finalStateGradient"/> adds dL/d(final state) [L * D, B, H] to the loss's gradient.
    /// </summary>
    public GradientResult ComputeGradients(Tensor input, Tensor target, LossKind loss, Tensor? initialState = null,
        IReadOnlyList<int>? lengths = null, DropoutMasks? dropout = null, Tensor? finalStateGradient = null)
    {
        var ws = Prepare(input, initialState, lengths);
        var packedTarget = Losses.PrepareTarget(Config, target, loss, ws.Layout);
        ForwardDevice(ws, MaskSource(ws, dropout));
        double value = Losses.Evaluate(this, ws, packedTarget, loss);
        BackwardDevice(ws, inputGradient: true, dropout: dropout is not null, finalStateGradient);

        var grads = GradientsByName();
        var layout = ws.Layout;
        var dx = Accelerator.ToArray(ws.Backward.DInput.Slice(0, (long)layout.Rows * Config.InputSize));
        var dh0 = Accelerator.ToArray(ws.Backward.DInitialState);
        int groups = Config.NumLayers * Config.Directions;
        return new GradientResult(value, grads,
            new Tensor(layout.Unpack(dx, Config.InputSize), layout.Batch, layout.Time, Config.InputSize),
            new Tensor(layout.SortRows(dh0, groups, Config.HiddenSize, toSorted: false), StateShape(layout.Batch)));
    }

    /// <summary>The per-layer mask source of a training pass: a fresh mask for every layer and direction that has one.</summary>
    internal Func<int, int, ReadOnlyMemory<float>>? MaskSource(RnnWorkspace ws, DropoutMasks? dropout) =>
        dropout is null ? null : (_, _) => dropout.Next(ws.Layout.Rows * Config.HiddenSize);
}

/// <summary>The loss and its gradients with respect to every parameter, the input and the initial state.</summary>
public sealed record GradientResult(double Loss, IReadOnlyDictionary<string, Tensor> Parameters, Tensor Input, Tensor InitialState);
