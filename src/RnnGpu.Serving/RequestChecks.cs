using RnnGpu.Model;

namespace RnnGpu.Serving;

/// <summary>What a request must satisfy before it is queued, so that a batch never fails for one bad member.</summary>
internal static class RequestChecks
{
    public static void Check(RnnConfig config, int maxSteps, ReadOnlySpan<float> input, int steps, ReadOnlySpan<float> initialState,
        int outputLength, int finalStateLength)
    {
        CheckSteps(steps, maxSteps);
        if (input.Length != steps * config.InputSize)
            throw new ShapeException($"input has {input.Length} values, expected {steps} steps x input size {config.InputSize}");
        CheckFinite(input, "input", config.InputSize);
        int state = StateLength(config);
        if (!initialState.IsEmpty)
        {
            if (initialState.Length != state)
                throw new ShapeException($"initial state has {initialState.Length} values, expected {DescribeState(config, config.NumLayers * config.Directions, "layers x directions")}");
            CheckFiniteState(config, initialState, "initial state");
        }
        if (outputLength != OutputLength(config, steps))
            throw new ShapeException($"output has room for {outputLength} values, expected {OutputLength(config, steps)}");
        if (finalStateLength != 0 && finalStateLength != state)
            throw new ShapeException($"final state has room for {finalStateLength} values, expected {state} or none");
    }

    public static void CheckSteps(int steps, int maxSteps)
    {
        if (steps < 1 || steps > maxSteps)
            throw new ShapeException($"a request has {steps} time steps; the service takes 1 to {maxSteps}");
    }

    /// <summary>
    /// Whether a request checked against one model also fits another (after a hot swap): a state it carries must mean the
    /// same to both (cell, layers, directions, sizes), not only have the same length.
    /// </summary>
    public static bool Fits(RnnConfig config, PendingRequest r) =>
        r.Input.Length == r.Steps * config.InputSize
        && r.Output.Length == OutputLength(config, r.Steps)
        && ((r.InitialState.IsEmpty && r.FinalState.IsEmpty) || SameStateLayout(r.Config, config));

    /// <summary>Whether a state of one model is a state of the other: the same cell, layers, directions, h and c sizes.</summary>
    public static bool SameStateLayout(RnnConfig a, RnnConfig b) =>
        a.Cell == b.Cell && a.NumLayers == b.NumLayers && a.Directions == b.Directions && a.StateSize == b.StateSize && a.HiddenSize == b.HiddenSize;

    /// <summary>A state's values are finite; a bad one is named by its place in h [rows, S] or an LSTM's c [rows, H].</summary>
    public static void CheckFiniteState(RnnConfig config, ReadOnlySpan<float> state, string what)
    {
        int h = config.HasCellState ? state.Length / (config.StateSize + config.HiddenSize) * config.StateSize : state.Length;
        CheckFinite(state[..h], what, config.StateSize);
        if (config.HasCellState) CheckFinite(state[h..], what + " (cell state c)", config.HiddenSize);
    }

    /// <summary>One sequence's state: h [L * D, S], then an LSTM's c [L * D, H].</summary>
    public static int StateLength(RnnConfig config) =>
        config.NumLayers * config.Directions * (config.StateSize + (config.HasCellState ? config.HiddenSize : 0));

    /// <summary>What a state of <paramref name="rows"/> rows holds, for errors: "2 (layers x directions) x hidden 8", with an LSTM's c after h.</summary>
    public static string DescribeState(RnnConfig config, int rows, string rowsMeaning) => config.HasCellState
        ? $"h {rows} ({rowsMeaning}) x {config.StateSize}, then c {rows} x hidden {config.HiddenSize}"
        : $"{rows} ({rowsMeaning}) x hidden {config.HiddenSize}";

    /// <summary>[steps, O], or [O] many-to-one.</summary>
    public static int OutputLength(RnnConfig config, int steps) => config.ManyToOne ? config.OutputSize : steps * config.OutputWidth;

    /// <summary>A non-finite value named by its row and column of [rows, rowLength].</summary>
    public static void CheckFinite(ReadOnlySpan<float> values, string what, int rowLength)
    {
        int bad = Finite.FirstNonFinite(values);
        if (bad >= 0) throw new ShapeException($"{what} holds a non-finite value ({values[bad]}) at row {bad / rowLength}, column {bad % rowLength}");
    }
}
