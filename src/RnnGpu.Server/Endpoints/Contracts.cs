namespace RnnGpu.Server.Endpoints;

// The JSON bodies the service sends, camelCase on the wire. Output is [steps][O], or [O] for a many-to-one model.

public sealed record PredictResponse(object Output, float[][] FinalState, long ModelVersion, float[][]? FinalCellState = null);

public sealed record StepResponse(object Output, long ModelVersion);

/// <summary>A stream's h [L][S] and, for an LSTM, its c [L][H] (left out for the other cells).</summary>
public sealed record StateResponse(float[][] State, float[][]? CellState = null);

public sealed record StreamCreated(string Id);

public sealed record ReloadResponse(long ModelVersion, DateTimeOffset LoadedAt);

/// <summary>Backend: the configured back end's name (cpu, opencl, cuda, auto); Device: the device the model runs on.</summary>
public sealed record HealthResponse(string Status, long ModelVersion, string Backend, string Device, DateTimeOffset LoadedAt, ModelShape Config, int Streams,
    string Weights);

public sealed record ModelShape(
    int InputSize, int HiddenSize, int NumLayers, string Nonlinearity, int OutputSize, int OutputWidth, bool Bidirectional, bool ManyToOne,
    string Cell, int ProjSize);
