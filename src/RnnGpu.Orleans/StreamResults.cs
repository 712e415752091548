namespace RnnGpu.Orleans;

/// <summary>
/// One advance of a stream: Output [steps, O] (or [O] for a many-to-one model), the new State (h [L, S], then an LSTM's
/// c [L, H]), the version of the model that computed it, the stream's Position (steps advanced since it started),
/// whether this is a replay of the last step's stored result (a retried step key), and the Silo that served it.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record StreamStep(
    [property: Id(0)] float[] Output,
    [property: Id(1)] float[] State,
    [property: Id(2)] long ModelVersion,
    [property: Id(3)] long Position,
    [property: Id(4)] bool Replayed,
    [property: Id(5)] string Silo);

/// <summary>A stream's State (h [L, S], then an LSTM's c [L, H]), its Position, the version of the model that made the state, and the Silo that holds the stream now.</summary>
[GenerateSerializer, Immutable]
public sealed record StreamSnapshot(
    [property: Id(0)] float[] State,
    [property: Id(1)] long ModelVersion,
    [property: Id(2)] long Position,
    [property: Id(3)] string Silo);
