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

    /// <summary>
    /// h [rows, S] and an LSTM's c [rows, H] as one state; either may be null for zeros, and null for both gives null (the
    /// library's zeros).
    /// </summary>
    public static float[]? Join(RnnConfig config, float[]? h, float[]? c, int rows)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (h is null && c is null) return null;
        h ??= new float[rows * config.StateSize];
        if (!config.HasCellState) return h;
        return [.. h, .. c ?? new float[rows * config.HiddenSize]];
    }
}
