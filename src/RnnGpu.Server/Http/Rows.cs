namespace RnnGpu.Server.Http;

/// <summary>Row-major arrays back into JSON's nested form.</summary>
public static class Rows
{
    /// <summary>[n] stays a flat array; [rows, width] becomes rows arrays of width values.</summary>
    public static object Of(float[] data, int[] shape) => shape.Length == 1 ? data : Split(data, shape[^1]);

    public static float[][] Split(float[] data, int width)
    {
        var rows = new float[data.Length / width][];
        for (int r = 0; r < rows.Length; r++) rows[r] = data.AsSpan(r * width, width).ToArray();
        return rows;
    }
}
