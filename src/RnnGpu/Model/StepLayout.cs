using System.Runtime.CompilerServices;

namespace RnnGpu.Model;

/// <summary>
/// How a batch of sequences lies in the engine's packed, time-major buffers (PyTorch's PackedSequence
/// layout). Sequences are sorted by length, longest first (stable), so at step t the sequences still
/// running are the first BatchSizes[t] rows: step t is the contiguous block of rows
/// [Offsets[t], Offsets[t] + BatchSizes[t]). Padded steps take no rows, so every cost grows with the
/// real steps. Without lengths, every batch size is B and the layout is plain [T, B].
/// </summary>
public sealed class StepLayout
{
    private StepLayout(int batch, int time, int[] order, int[] sortedLengths)
    {
        Batch = batch;
        Time = time;
        Order = order;
        SortedLengths = sortedLengths;
        BatchSizes = new int[time];
        Offsets = new int[time];
        int rows = 0;
        for (int t = 0; t < time; t++)
        {
            int count = 0;
            while (count < batch && sortedLengths[count] > t) count++;
            BatchSizes[t] = count;
            Offsets[t] = rows;
            rows += count;
        }
        Rows = rows;
        Uniform = sortedLengths.All(l => l == time);
    }

    public int Batch { get; }
    public int Time { get; }

    /// <summary>Order[i]: the caller's batch index of the i-th sequence in sorted order.</summary>
    public int[] Order { get; }

    /// <summary>Lengths in sorted order (non-increasing).</summary>
    public int[] SortedLengths { get; }

    /// <summary>Sequences running at step t.</summary>
    public int[] BatchSizes { get; }

    /// <summary>First row of step t.</summary>
    public int[] Offsets { get; }

    /// <summary>Real (sequence, step) pairs: the rows of every packed buffer.</summary>
    public int Rows { get; }

    /// <summary>Every sequence runs all T steps: no sorting, no padding.</summary>
    public bool Uniform { get; }

    /// <summary>The length of the caller's sequence b.</summary>
    public int LengthOf(int b) => SortedLengths[Array.IndexOf(Order, b)];

    /// <summary>Sequences running at step t, 0 past the end.</summary>
    public int BatchSize(int t) => t < Time ? BatchSizes[t] : 0;

    public static StepLayout Full(int batch, int time) =>
        new(batch, time, Enumerable.Range(0, batch).ToArray(), Enumerable.Repeat(time, batch).ToArray());

    /// <summary>A layout for sequences of these lengths, each in [1, time].</summary>
    public static StepLayout ForLengths(int batch, int time, IReadOnlyList<int>? lengths)
    {
        if (lengths is null) return Full(batch, time);
        if (lengths.Count != batch)
            throw new ShapeException($"{lengths.Count} lengths for a batch of {batch} sequences");
        for (int b = 0; b < batch; b++)
            if (lengths[b] < 1 || lengths[b] > time)
                throw new ShapeException($"length {lengths[b]} of sequence {b} is outside [1, {time}]");
        var order = Enumerable.Range(0, batch).OrderByDescending(b => lengths[b]).ToArray();   // stable
        return new StepLayout(batch, time, order, order.Select(b => lengths[b]).ToArray());
    }

    /// <summary>
    /// Steps [t0, t0 + length) as a layout of its own, in the same row order, for truncated BPTT.
    /// A sequence that ended before t0 has length 0 there: it takes no rows and keeps its state.
    /// </summary>
    public StepLayout Chunk(int t0, int length) =>
        new(Batch, length, Order, SortedLengths.Select(l => Math.Clamp(l - t0, 0, length)).ToArray());

    /// <summary>Batch-first [B, T, F] to packed [Rows, F]; padded steps are dropped.</summary>
    public float[] Pack(ReadOnlySpan<float> batchFirst, int features)
    {
        var packed = new float[Rows * features];
        PackInto(batchFirst, features, packed);
        return packed;
    }

    /// <summary><see cref="Pack"/> into the first Rows * F elements of a caller's buffer (a reused staging array).</summary>
    public void PackInto(ReadOnlySpan<float> batchFirst, int features, Span<float> packed) => PackInto(batchFirst, features, packed, threads: 1);

    /// <summary><see cref="PackInto(ReadOnlySpan{float}, int, Span{float})"/> on up to <paramref name="threads"/> CPU threads.</summary>
    internal unsafe void PackInto(ReadOnlySpan<float> batchFirst, int features, Span<float> packed, int threads)
    {
        CheckLengths(batchFirst.Length, features, packed.Length);
        fixed (float* user = batchFirst, rows = packed) LayoutCopy.Run(this, user, rows, features, pack: true, threads);
    }

    /// <summary>Packed [Rows, F] back to batch-first [B, T, F], zeros at padded steps.</summary>
    public float[] Unpack(ReadOnlySpan<float> packed, int features)
    {
        var batchFirst = new float[Batch * Time * features];
        UnpackInto(packed, features, batchFirst);
        return batchFirst;
    }

    /// <summary><see cref="Unpack"/> into a caller's [B, T, F] buffer, padded steps set to zeros.</summary>
    public void UnpackInto(ReadOnlySpan<float> packed, int features, Span<float> batchFirst) => UnpackInto(packed, features, batchFirst, threads: 1);

    /// <summary><see cref="UnpackInto(ReadOnlySpan{float}, int, Span{float})"/> on up to <paramref name="threads"/> CPU threads.</summary>
    internal unsafe void UnpackInto(ReadOnlySpan<float> packed, int features, Span<float> batchFirst, int threads)
    {
        CheckLengths(batchFirst.Length, features, packed.Length);
        fixed (float* rows = packed, user = batchFirst) LayoutCopy.Run(this, user, rows, features, pack: false, threads);
    }

    /// <summary>The copies work on raw memory: a buffer too short for the layout is refused here, not overrun.</summary>
    private void CheckLengths(int batchFirst, int features, int packed)
    {
        if (batchFirst < (long)Batch * Time * features || packed < (long)Rows * features)
            throw new ShapeException($"[{Batch}, {Time}, {features}] and [{Rows}, {features}] do not fit {batchFirst} and {packed} floats");
    }

    /// <summary>Per-sequence rows [groups, B, F] from the caller's order to sorted order, or back.</summary>
    public float[] SortRows(ReadOnlySpan<float> data, int groups, int features, bool toSorted)
    {
        var result = new float[data.Length];
        SortRowsInto(data, result, groups, features, toSorted);
        return result;
    }

    /// <summary><see cref="SortRows"/> into a caller's buffer of the same length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SortRowsInto(ReadOnlySpan<float> data, Span<float> result, int groups, int features, bool toSorted)
    {
        for (int g = 0; g < groups; g++)
        for (int i = 0; i < Batch; i++)
        {
            int caller = (g * Batch + Order[i]) * features, sorted = (g * Batch + i) * features;
            data.Slice(toSorted ? caller : sorted, features).CopyTo(result.Slice(toSorted ? sorted : caller, features));
        }
    }
}
