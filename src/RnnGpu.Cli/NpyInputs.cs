using RnnGpu.IO;

namespace RnnGpu.Cli;

/// <summary>Reads and checks the .npy arrays the commands take.</summary>
internal static class NpyInputs
{
    /// <summary>Inputs [batch, time, features] as float32 (float64 converted); integers are refused.</summary>
    public static Tensor ReadSequences(string path, string what)
    {
        var array = NpyArray.Read(path);
        RequireFloat(array, path, what);
        if (array.Shape.Length != 3)
            throw new ShapeException($"{path}: {what} must have 3 dimensions [batch, time, features], found {ShapeText(array.Shape)}");
        RequireNonEmpty(array, path, what);
        return RequireFinite(array.ToTensor(), path, what);
    }

    /// <summary>An initial or final state [layers, batch, hidden].</summary>
    public static Tensor ReadState(string path)
    {
        var array = NpyArray.Read(path);
        RequireFloat(array, path, "the initial state");
        if (array.Shape.Length != 3)
            throw new ShapeException($"{path}: the initial state must have 3 dimensions [layers, batch, hidden], found {ShapeText(array.Shape)}");
        return RequireFinite(array.ToTensor(), path, "the initial state");
    }

    /// <summary>
    /// Class ids [batch, time] from int32/int64, or from floats holding whole numbers; each must be
    /// in [0, 2^24) so it is exact as a float32. Returns them as floats and the largest id.
    /// </summary>
    public static (Tensor Ids, long MaxId) ReadClassIds(string path)
    {
        var array = NpyArray.Read(path);
        if (array.Shape.Length != 2)
            throw new ShapeException($"{path}: cross-entropy targets must have 2 dimensions [batch, time] of class ids, found {ShapeText(array.Shape)}"
                + (array.Shape.Length == 3 ? " (for one-hot or real-valued targets use --loss mse or bce)" : ""));
        RequireNonEmpty(array, path, "the targets");
        long[] ids = array.ToInt64();
        long max = -1;
        var data = new float[ids.Length];
        for (int k = 0; k < ids.Length; k++)
        {
            long id = ids[k];
            if (id < 0 || id >= 1 << 24)
                throw new ShapeException($"{path}: class id {id} at [{k / array.Shape[1]}, {k % array.Shape[1]}] is outside [0, {1 << 24})");
            max = Math.Max(max, id);
            data[k] = id;
        }
        return (new Tensor(data, array.Shape), max);
    }

    public static string ShapeText(int[] shape) => $"[{string.Join(", ", shape)}]";

    private static void RequireFloat(NpyArray array, string path, string what)
    {
        if (array.DType is not (NpyDType.Float32 or NpyDType.Float64))
            throw new ShapeException($"{path}: {what} must be float32 or float64, the file holds {array.DType.ToString().ToLowerInvariant()}");
    }

    private static void RequireNonEmpty(NpyArray array, string path, string what)
    {
        if (array.Shape.Any(d => d < 1))
            throw new ShapeException($"{path}: {what} have an empty dimension: {ShapeText(array.Shape)}");
    }

    private static Tensor RequireFinite(Tensor t, string path, string what)
    {
        int bad = Array.FindIndex(t.Data, v => !float.IsFinite(v));
        if (bad >= 0) throw new ShapeException($"{path}: {what} hold a non-finite value ({t.Data[bad]}) at flat index {bad}");
        return t;
    }
}
