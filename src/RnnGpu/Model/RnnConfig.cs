using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>
/// The architecture of an Elman RNN with an optional linear head, as PyTorch's
/// nn.RNN(InputSize, HiddenSize, NumLayers, nonlinearity) followed by nn.Linear(HiddenSize, OutputSize).
/// OutputSize 0 means no head: the model's outputs are the last layer's hidden states.
/// </summary>
public sealed record RnnConfig(int InputSize, int HiddenSize, int NumLayers = 1, Activation Nonlinearity = Activation.Tanh, int OutputSize = 0)
{
    public bool HasHead => OutputSize > 0;

    /// <summary>Width of the model's output at each step: the head's, or the hidden size without a head.</summary>
    public int OutputWidth => HasHead ? OutputSize : HiddenSize;

    /// <summary>Input width of layer k: the input size for the first layer, the hidden size above it.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize : HiddenSize;

    public void Validate()
    {
        const int max = 1 << 16;
        if (InputSize < 1 || InputSize > max) throw new ShapeException($"input size {InputSize} must be between 1 and {max}");
        if (HiddenSize < 1 || HiddenSize > max) throw new ShapeException($"hidden size {HiddenSize} must be between 1 and {max}");
        if (NumLayers < 1 || NumLayers > 64) throw new ShapeException($"number of layers {NumLayers} must be between 1 and 64");
        if (OutputSize < 0 || OutputSize > max) throw new ShapeException($"output size {OutputSize} must be between 0 (no head) and {max}");
        if (!Enum.IsDefined(Nonlinearity)) throw new ShapeException($"unknown nonlinearity {(int)Nonlinearity}");
        long h = HiddenSize, parameters = NumLayers * (h * h + 2 * h) + h * InputSize + (NumLayers - 1) * h * h + OutputSize * (h + 1);
        if (parameters > Array.MaxLength)
            throw new ShapeException($"the model would have {parameters} parameters; at most {Array.MaxLength} fit in one buffer");
    }
}
