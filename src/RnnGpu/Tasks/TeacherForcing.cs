namespace RnnGpu.Tasks;

/// <summary>
/// Inputs for training a generator (one-to-many) or a decoder (encoder-decoder) with teacher forcing:
/// at step t the model is fed the true output of step t - 1 rather than its own guess, and at step 0
/// a start vector. At generation time the model's own output is fed back instead (<see cref="Generator"/>).
/// </summary>
public static class TeacherForcing
{
    /// <summary>
    /// The target shifted right by one step: [B, T, I] whose step 0 is <paramref name="start"/> ([B, I],
    /// or [I] for every sequence; zeros when null) and whose step t is target step t - 1: its values for a
    /// target [B, T, I], the one-hot code of its class id for class ids [B, T] (ids in [0, I)). Steps at or
    /// past a sequence's <paramref name="lengths"/> are zeros (they are padding: never read).
    /// </summary>
    public static Tensor ShiftRight(Tensor target, int inputSize, Tensor? start = null, IReadOnlyList<int>? lengths = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (inputSize < 1) throw new ShapeException($"input size {inputSize} must be at least 1");
        bool classes = target.Rank == 2;
        if (!(classes || target.Rank == 3 && target.Shape[2] == inputSize) || target.Shape[0] < 1 || target.Shape[1] < 1)
            throw new ShapeException(
                $"teacher forcing needs targets [batch, time, {inputSize}] (values fed back as inputs) or [batch, time] class ids (fed back one-hot), got {target.ShapeText}");
        int batch = target.Shape[0], time = target.Shape[1];
        if (lengths is not null && lengths.Count != batch)
            throw new ShapeException($"{lengths.Count} lengths for a batch of {batch} sequences");
        var x = new float[(long)batch * time * inputSize];
        var first = StartSteps(start, batch, inputSize);
        for (int b = 0; b < batch; b++) Array.Copy(first, b * inputSize, x, (long)b * time * inputSize, inputSize);
        for (int b = 0; b < batch; b++)
        {
            int length = lengths is null ? time : Math.Clamp(lengths[b], 0, time);
            for (int t = 1; t < length; t++)
            {
                long to = ((long)b * time + t) * inputSize;
                if (!classes)
                {
                    Array.Copy(target.Data, ((long)b * time + t - 1) * inputSize, x, to, inputSize);
                    continue;
                }
                float id = target.Data[b * time + t - 1];
                if (!(id >= 0 && id < inputSize && id == MathF.Floor(id)))
                    throw new ShapeException($"target class {id} at [{b}, {t - 1}] is not an integer in [0, {inputSize}): it cannot be fed back one-hot");
                x[to + (int)id] = 1f;
            }
        }
        return new Tensor(x, batch, time, inputSize);
    }

    /// <summary>The start step of each sequence [B * I]: <paramref name="start"/> [B, I], or [I] for every sequence, or zeros.</summary>
    internal static float[] StartSteps(Tensor? start, int batch, int inputSize)
    {
        var first = new float[batch * inputSize];
        if (start is null) return first;
        bool shared = start.Rank == 1 && start.Shape[0] == inputSize;
        if (!shared && !(start.Rank == 2 && start.Shape[0] == batch && start.Shape[1] == inputSize))
            throw new ShapeException($"the start step has shape {start.ShapeText}, expected [{batch}, {inputSize}] or [{inputSize}]");
        for (int b = 0; b < batch; b++) Array.Copy(start.Data, shared ? 0 : b * inputSize, first, b * inputSize, inputSize);
        return first;
    }
}
