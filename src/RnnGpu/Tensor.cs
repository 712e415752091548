namespace RnnGpu;

/// <summary>
/// A dense float32 array on the host, row-major, with its shape. The currency of the public API:
/// inputs, targets, outputs, states and parameters all cross the API as Tensors.
/// </summary>
public sealed class Tensor
{
    public Tensor(float[] data, params int[] shape)
    {
        long count = ElementCount(shape);
        if (count != data.Length)
            throw new ShapeException($"shape [{string.Join(", ", shape)}] holds {count} elements, the data has {data.Length}");
        Data = data;
        Shape = (int[])shape.Clone();
    }

    public static Tensor Zeros(params int[] shape) => new(new float[ElementCount(shape)], shape);

    public float[] Data { get; }
    public int[] Shape { get; }
    public int Rank => Shape.Length;
    public int Length => Data.Length;

    public float this[params int[] index] => Data[FlatIndex(index)];

    public string ShapeText => $"[{string.Join(", ", Shape)}]";

    public Tensor Clone() => new((float[])Data.Clone(), Shape);

    public static long ElementCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ShapeException($"negative dimension {d} in shape");
            count *= d;
            if (count > Array.MaxLength) throw new ShapeException($"shape holds more than {Array.MaxLength} elements");
        }
        return count;
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != Shape.Length) throw new ShapeException($"index of rank {index.Length} into tensor of rank {Shape.Length}");
        int flat = 0;
        for (int i = 0; i < index.Length; i++)
        {
            if ((uint)index[i] >= (uint)Shape[i]) throw new IndexOutOfRangeException($"index {index[i]} outside dimension {i} of {ShapeText}");
            flat = flat * Shape[i] + index[i];
        }
        return flat;
    }
}
