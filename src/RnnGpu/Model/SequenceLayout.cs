namespace RnnGpu.Model;

/// <summary>Host-side reordering between the API's batch-first [B, T, F] and the engine's time-major [T, B, F].</summary>
internal static class SequenceLayout
{
    public static void BatchToTimeMajor(ReadOnlySpan<float> src, int batch, int time, int features, Span<float> dst)
    {
        for (int b = 0; b < batch; b++)
        for (int t = 0; t < time; t++)
            src.Slice((b * time + t) * features, features).CopyTo(dst.Slice((t * batch + b) * features, features));
    }

    public static void TimeToBatchMajor(ReadOnlySpan<float> src, int batch, int time, int features, Span<float> dst)
    {
        for (int t = 0; t < time; t++)
        for (int b = 0; b < batch; b++)
            src.Slice((t * batch + b) * features, features).CopyTo(dst.Slice((b * time + t) * features, features));
    }
}
