using RnnGpu.Training;

namespace RnnGpu.Model;

public sealed partial class RnnModel
{
    /// <summary>
    /// Loss and every gradient for one batch: parameters (by PyTorch name), input [B, T, I] (zeros past
    /// each sequence's end), initial state [L * D, B, S] and, for an LSTM, initial cell state [L * D, B, H]. Does not change
    /// the weights. Target: see <see cref="LossKind"/>. With <paramref name="dropout"/>, the training-mode pass with its next
    /// masks. <paramref name="finalStateGradient"/> (and <paramref name="finalCellGradient"/>) add dL/d(final state) to the
    /// loss's gradient.
    /// </summary>
    public GradientResult ComputeGradients(Tensor input, Tensor target, LossKind loss, Tensor? initialState = null,
        IReadOnlyList<int>? lengths = null, DropoutMasks? dropout = null, Tensor? finalStateGradient = null, Tensor? initialCell = null,
        Tensor? finalCellGradient = null)
    {
        var pass = Prepare(input, initialState, lengths, initialCell);
        var packedTarget = Losses.PrepareTarget(Config, target, loss, pass.Layout);
        pass.Forward(MaskSource(pass, dropout));
        double value = Losses.Evaluate(pass, packedTarget, loss);
        pass.Backward(inputGradient: true, dropout: dropout is not null, finalStateGradient, finalCellGradient);
        return new GradientResult(value, GradientsByName(), pass.InputGradient(), pass.InitialStateGradient(),
            Config.HasCellState ? pass.InitialCellGradient() : null);
    }

    /// <summary>The per-layer mask source of a training pass: a fresh mask for every layer and direction that has one.</summary>
    internal Func<int, int, ReadOnlyMemory<float>>? MaskSource(RnnPass pass, DropoutMasks? dropout) =>
        dropout is null ? null : (_, _) => dropout.Next(pass.Layout.Rows * Config.StateSize);
}

/// <summary>The loss and its gradients with respect to every parameter, the input, the initial state and (LSTM) the initial cell state.</summary>
public sealed record GradientResult(double Loss, IReadOnlyDictionary<string, Tensor> Parameters, Tensor Input, Tensor InitialState,
    Tensor? InitialCell = null);
