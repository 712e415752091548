namespace RnnGpu.Training;

/// <summary>
/// Inverted-dropout masks for training: each element kept with probability 1 - p and then scaled by
/// 1 / (1 - p), so inference needs no rescaling. Drawn on the host from a seeded generator, so a seed
/// reproduces training exactly on every back end.
/// </summary>
public sealed class DropoutMasks(float probability, int seed)
{
    private readonly Random _random = new(seed);

    public float Probability { get; } = probability;

    /// <summary>A new mask of <paramref name="length"/> elements.</summary>
    public float[] Next(int length)
    {
        var mask = new float[length];
        float keep = 1f / (1f - Probability);
        for (int i = 0; i < length; i++) mask[i] = _random.NextDouble() < Probability ? 0f : keep;
        return mask;
    }
}
