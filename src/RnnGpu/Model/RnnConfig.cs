using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>Where the head reads from: every step's output (many-to-many), or each sequence's final state (many-to-one).</summary>
public enum HeadInput
{
    EveryStep,
    FinalState,
}

/// <summary>
/// The architecture of a recurrent network with an optional linear head, as PyTorch's
/// nn.RNN(InputSize, HiddenSize, NumLayers, nonlinearity, dropout=Dropout, bidirectional=Bidirectional),
/// nn.LSTM(..., proj_size=ProjSize) or nn.GRU(...) (<see cref="Cell"/>) followed by
/// nn.Linear(directions * StateSize, OutputSize). OutputSize 0 means no head: the model's outputs are the last
/// layer's hidden states (both directions concatenated when bidirectional). Dropout, as in PyTorch, applies in
/// training to the output of every layer but the last. The nonlinearity is the Elman cell's; ProjSize an LSTM's.
/// </summary>
public sealed record RnnConfig(
    int InputSize, int HiddenSize, int NumLayers = 1, Activation Nonlinearity = Activation.Tanh, int OutputSize = 0,
    bool Bidirectional = false, float Dropout = 0f, HeadInput HeadInput = HeadInput.EveryStep, CellKind Cell = CellKind.Rnn,
    int ProjSize = 0)
{
    public bool HasHead => OutputSize > 0;

    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>Row blocks of the cell's weights (1, 4 or 3): weight_ih is [Gates * H, in], weight_hh [Gates * H, StateSize].</summary>
    public int Gates => Cell.Gates();

    /// <summary>Width of the gate pre-activations of a step: [rows, GateWidth].</summary>
    public int GateWidth => Gates * HiddenSize;

    /// <summary>An LSTM's cell state c, [L * D, B, H] beside h.</summary>
    public bool HasCellState => Cell == CellKind.Lstm;

    /// <summary>Width of h, a layer's output per direction: the projection's P for an LSTM with proj_size, else H.</summary>
    public int StateSize => ProjSize > 0 ? ProjSize : HiddenSize;

    /// <summary>Width of a layer's output: both directions side by side.</summary>
    public int LayerOutputSize => Directions * StateSize;

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
        if (!Enum.IsDefined(Cell)) throw new ShapeException($"unknown cell {(int)Cell}");
        if (Cell != CellKind.Rnn && Nonlinearity != Activation.Tanh)
            throw new ShapeException($"nonlinearity {Nonlinearity.ToName()}: only the Elman cell (rnn) takes one; an {Cell.ToName()} has its own gates");
        if (ProjSize < 0 || (ProjSize > 0 && Cell != CellKind.Lstm)) throw new ShapeException($"proj size {ProjSize}: only an LSTM has a projection (proj size 0 or more)");
        if (ProjSize >= HiddenSize && ProjSize > 0) throw new ShapeException($"proj size {ProjSize} must be smaller than the hidden size {HiddenSize}, as PyTorch requires");
        long h = HiddenSize, g = GateWidth, s = StateSize, d = Directions;
        long perDirection = NumLayers * (g * s + 2 * g + (ProjSize > 0 ? s * h : 0)) + g * InputSize + (NumLayers - 1) * g * d * s;
        long parameters = d * perDirection + OutputSize * (d * s + 1);
        if (parameters > Array.MaxLength)
            throw new ShapeException($"the model would have {parameters} parameters; at most {Array.MaxLength} fit in one buffer");
    }
}
