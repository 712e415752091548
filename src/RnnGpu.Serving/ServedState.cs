using RnnGpu.Model;

namespace RnnGpu.Serving;

/// <summary>
/// A served state in one array, as requests and streams carry it: h [rows, S], then for an LSTM c [rows, H] (rows: layers x
/// directions for a request, layers for a stream).
/// </summary>
public static class ServedState
{
    /// <summary>h [rows, S] and an LSTM's c [rows, H] (null for the other cells).</summary>
    public static (float[] H, float[]? C) Split(RnnConfig config, float[] state)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(state);
        if (!config.HasCellState) return (state, null);
        int h = state.Length / (config.StateSize + config.HiddenSize) * config.StateSize;
        return (state[..h], state[h..]);
    }
}
