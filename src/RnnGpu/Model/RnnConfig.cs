using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>Where the head reads from: every step's output (many-to-many), or each sequence's final state (many-to-one).</summary>
public enum HeadInput
{
    EveryStep,
    FinalState,
}

/// <summary>
/// The architecture of an Elman RNN with an optional linear head, as PyTorch's
/// nn.RNN(InputSize, HiddenSize, NumLayers, nonlinearity, dropout=Dropout, bidirectional=Bidirectional)
/// followed by nn.Linear(directions * HiddenSize, OutputSize). OutputSize 0 means no head: the model's
/// outputs are the last layer's hidden states (both directions concatenated when bidirectional).
/// Dropout, as in PyTorch, applies in training to the output of every layer but the last.
/// </summary>
public sealed record RnnConfig(
    int InputSize, int HiddenSize, int NumLayers = 1, Activation Nonlinearity = Activation.Tanh, int OutputSize = 0,
    bool Bidirectional = false, float Dropout = 0f, HeadInput HeadInput = HeadInput.EveryStep)
{
    public bool HasHead => OutputSize > 0;

    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>Width of a layer's output: both directions side by side.</summary>
    public int LayerOutputSize => Directions * HiddenSize;

    /// <summary>Width of the model's output at each step (or per sequence, many-to-one): the head's, or the top layer's without a head.</summary>
    public int OutputWidth => HasHead ? OutputSize : LayerOutputSize;

    /// <summary>Input width of layer k: the input size for the first layer, both directions of the layer below above it.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize : LayerOutputSize;

    /// <summary>Many-to-one: one output per sequence, from its final state.</summary>
    public bool ManyToOne => HeadInput == HeadInput.FinalState;

    public void Validate()
    {
        const int max = 1 << 16;
        if (InputSize < 1 || InputSize > max) throw new ShapeException($"input size {InputSize} must be between 1 and {max}");
        if (HiddenSize < 1 || HiddenSize > max) throw new ShapeException($"hidden size {HiddenSize} must be between 1 and {max}");
        if (NumLayers < 1 || NumLayers > 64) throw new ShapeException($"number of layers {NumLayers} must be between 1 and 64");
        if (OutputSize < 0 || OutputSize > max) throw new ShapeException($"output size {OutputSize} must be between 0 (no head) and {max}");
        if (!Enum.IsDefined(Nonlinearity)) throw new ShapeException($"unknown nonlinearity {(int)Nonlinearity}");
        if (!Enum.IsDefined(HeadInput)) throw new ShapeException($"unknown head input {(int)HeadInput}");
        if (!(Dropout >= 0f && Dropout < 1f)) throw new ShapeException($"dropout {Dropout} must be in [0, 1)");
        if (ManyToOne && !HasHead) throw new ShapeException("a many-to-one model needs a head (output size > 0)");
        long h = HiddenSize, d = Directions;
        long parameters = d * (NumLayers * (h * h + 2 * h) + h * InputSize + (NumLayers - 1) * h * d * h) + OutputSize * (d * h + 1);
        if (parameters > Array.MaxLength)
            throw new ShapeException($"the model would have {parameters} parameters; at most {Array.MaxLength} fit in one buffer");
    }
}
