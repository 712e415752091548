namespace RnnGpu.Model;

/// <summary>The recurrent cell, as PyTorch's module names it: nn.RNN (Elman), nn.LSTM, nn.GRU.</summary>
public enum CellKind
{
    Rnn,
    Lstm,
    Gru,
}

public static class CellKindNames
{
    public static string ToName(this CellKind cell) => cell switch
    {
        CellKind.Lstm => "lstm",
        CellKind.Gru => "gru",
        _ => "rnn",
    };

    public static CellKind ParseCell(string name) => name.ToLowerInvariant() switch
    {
        "rnn" or "elman" => CellKind.Rnn,
        "lstm" => CellKind.Lstm,
        "gru" => CellKind.Gru,
        _ => throw new ShapeException($"unknown cell '{name}': expected rnn, lstm or gru"),
    };

    /// <summary>Row blocks of weight_ih and weight_hh: 1 (Elman), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n).</summary>
    public static int Gates(this CellKind cell) => cell switch
    {
        CellKind.Lstm => 4,
        CellKind.Gru => 3,
        _ => 1,
    };
}
