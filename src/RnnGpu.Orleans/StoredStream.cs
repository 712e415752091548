using RnnGpu.Model;

namespace RnnGpu.Orleans;

/// <summary>
/// What grain storage keeps of a stream: its State (h [L, S], then an LSTM's c [L, H]) with the shape of the model that made
/// it (Cell, Layers, Hidden, StateSize), that model's version, the Position, and the last step's key, input hash, step
/// count and output, so that a retried step returns what it returned.
/// </summary>
[GenerateSerializer]
public sealed class StoredStream
{
    [Id(0)] public float[] State { get; set; } = [];
    [Id(1)] public string Cell { get; set; } = "";
    [Id(2)] public int Layers { get; set; }
    [Id(3)] public int Hidden { get; set; }
    [Id(4)] public int StateSize { get; set; }
    [Id(5)] public long ModelVersion { get; set; }
    [Id(6)] public long Position { get; set; }
    [Id(7)] public string? LastKey { get; set; }
    [Id(8)] public ulong LastInputHash { get; set; }
    [Id(9)] public int LastSteps { get; set; }
    [Id(10)] public float[]? LastOutput { get; set; }

    /// <summary>Why the stored bytes could not be read (not stored itself): see <see cref="CheckedStreamSerializer"/>.</summary>
    [NonSerialized]
    private string? _damage;

    public static StoredStream Damaged(string why) => new() { _damage = why };

    /// <summary>A state of <paramref name="config"/>'s shape: h [L, S], then an LSTM's c [L, H].</summary>
    public static StoredStream For(RnnConfig config, float[] state, long version, long position) => new()
    {
        State = state, Cell = config.Cell.ToName(), Layers = config.NumLayers, Hidden = config.HiddenSize, StateSize = config.StateSize,
        ModelVersion = version, Position = position,
    };

    /// <summary>Whether the stored state is a state of <paramref name="config"/> (a unidirectional model).</summary>
    public bool Fits(RnnConfig config) =>
        Cell == config.Cell.ToName() && Layers == config.NumLayers && Hidden == config.HiddenSize && StateSize == config.StateSize;

    public string Describe() => $"{Cell} of {Layers} layer(s), hidden {Hidden}" + (StateSize != Hidden ? $", projection {StateSize}" : "");

    /// <summary>Why the record is not a consistent stream state, or null when it is.</summary>
    public string? Inconsistency()
    {
        if (_damage is not null) return _damage;
        if (State is null || Cell is not ("rnn" or "lstm" or "gru") || Layers < 1 || Hidden < 1 || StateSize < 1 || Position < 0)
            return "its shape fields are missing or out of range";
        long expected = (long)Layers * StateSize + (Cell == "lstm" ? (long)Layers * Hidden : 0);
        if (State.Length != expected) return $"its state has {State.Length} values, but a {Describe()} has {expected}";
        for (int i = 0; i < State.Length; i++)
            if (!float.IsFinite(State[i])) return $"its state holds {State[i]} at index {i}";
        if (LastKey is not null && (LastOutput is null || LastSteps < 1)) return "its last step's key has no stored result";
        return null;
    }
}
