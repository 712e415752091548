using RnnGpu.Model;

namespace RnnGpu.Serving;

/// <summary>
/// The model being served: its version counts loads from 1, so a response names the weights that made it;
/// Device is the accelerator's own description (e.g. "CPU (2 threads, AVX-512)").
/// </summary>
public sealed record ServedModelInfo(long Version, RnnConfig Config, string Device, string CheckpointPath, DateTimeOffset LoadedAt)
{
    /// <summary>How the served weights are stored: fp32, int8 or bf16.</summary>
    public string Weights { get; init; } = "fp32";
}

/// <summary>
/// One request's result: Output [steps, O] (O = <see cref="RnnConfig.OutputWidth"/>), or [O] for a
/// many-to-one model; FinalState h [L * D, S] (StateShape); an LSTM's FinalCell c [L * D, H] (null for the other cells); the
/// version of the model that computed them.
/// </summary>
public sealed record Prediction(float[] Output, int[] OutputShape, float[] FinalState, int[] StateShape, long ModelVersion, float[]? FinalCell = null)
{
    internal static Prediction Of(RnnConfig config, float[] output, int steps, float[] state, int rows, long version)
    {
        int[] outputShape = config.ManyToOne ? [config.OutputSize] : [steps, config.OutputWidth];
        var (h, c) = ServedState.Split(config, state);
        return new Prediction(output, outputShape, h, [rows, config.StateSize], version, c);
    }
}
