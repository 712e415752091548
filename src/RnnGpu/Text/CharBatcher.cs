namespace RnnGpu.Text;

/// <summary>A batch for next-character prediction: one-hot inputs [B, T, V] and target class ids [B, T] (as floats).</summary>
public sealed record CharBatch(Tensor Input, Tensor Target);

/// <summary>
/// Cuts an encoded text into training windows for next-character prediction: a window starting at
/// s has inputs text[s .. s+T) and targets text[s+1 .. s+T], the same characters shifted by one.
/// <see cref="Next"/> draws <see cref="BatchSize"/> window starts uniformly from a seeded generator.
/// </summary>
public sealed class CharBatcher
{
    private readonly int[] _ids;
    private readonly Random _random;

    public CharBatcher(CharVocabulary vocabulary, string text, int batchSize, int sequenceLength, int seed = 0)
        : this(vocabulary, vocabulary.Encode(text), batchSize, sequenceLength, seed)
    {
    }

    public CharBatcher(CharVocabulary vocabulary, int[] ids, int batchSize, int sequenceLength, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(ids);
        if (batchSize < 1) throw new ShapeException($"batch size {batchSize} must be at least 1");
        if (sequenceLength < 1) throw new ShapeException($"sequence length {sequenceLength} must be at least 1");
        if (ids.Length < sequenceLength + 1)
            throw new ShapeException($"the text has {ids.Length} characters, fewer than one training window of {sequenceLength + 1} (sequence length + 1); use a longer text or a shorter sequence length");
        foreach (int id in ids)
            if ((uint)id >= (uint)vocabulary.Size) throw new ShapeException($"class id {id} is outside the vocabulary of {vocabulary.Size} characters");
        Vocabulary = vocabulary;
        _ids = ids;
        BatchSize = batchSize;
        SequenceLength = sequenceLength;
        _random = new Random(seed);
    }

    public CharVocabulary Vocabulary { get; }
    public int BatchSize { get; }
    public int SequenceLength { get; }

    /// <summary>Number of distinct window starts.</summary>
    public int WindowCount => _ids.Length - SequenceLength;

    /// <summary>Characters in one batch.</summary>
    public int CharactersPerBatch => BatchSize * SequenceLength;

    /// <summary>The next batch of windows at random starts.</summary>
    public CharBatch Next()
    {
        var starts = new int[BatchSize];
        for (int b = 0; b < BatchSize; b++) starts[b] = _random.Next(WindowCount);
        return Batch(starts);
    }

    /// <summary>The batch of windows starting at these positions (each in [0, WindowCount)).</summary>
    public CharBatch Batch(ReadOnlySpan<int> starts)
    {
        int batch = starts.Length, time = SequenceLength;
        var inputIds = new int[batch * time];
        var target = new float[batch * time];
        for (int b = 0; b < batch; b++)
        {
            int s = starts[b];
            if ((uint)s >= (uint)WindowCount) throw new ShapeException($"window start {s} is outside [0, {WindowCount})");
            for (int t = 0; t < time; t++)
            {
                inputIds[b * time + t] = _ids[s + t];
                target[b * time + t] = _ids[s + t + 1];
            }
        }
        return new CharBatch(Vocabulary.OneHot(inputIds, batch, time), new Tensor(target, batch, time));
    }
}
