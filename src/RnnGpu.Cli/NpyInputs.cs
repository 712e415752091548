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

    /// <summary>Start steps [batch, features] (one-to-many inputs) as float32; integers are refused.</summary>
    public static Tensor ReadSteps(string path, string what)
    {
        var array = NpyArray.Read(path);
        RequireFloat(array, path, what);
        if (array.Shape.Length != 2)
            throw new ShapeException($"{path}: {what} must have 2 dimensions [batch, features] (one start step per sequence), found {ShapeText(array.Shape)}");
        RequireNonEmpty(array, path, what);
        return RequireFinite(array.ToTensor(), path, what);
    }

    /// <summary>Inputs [batch, time, features], or [batch, features] read as one step each ([batch, 1, features]).</summary>
    public static Tensor ReadSequencesOrSteps(string path, string what)
    {
        var array = NpyArray.Read(path);
        RequireFloat(array, path, what);
        if (array.Shape.Length is not (2 or 3))
            throw new ShapeException($"{path}: {what} must have 3 dimensions [batch, time, features] or 2 [batch, features], found {ShapeText(array.Shape)}");
        RequireNonEmpty(array, path, what);
        var t = RequireFinite(array.ToTensor(), path, what);
        return t.Rank == 3 ? t : new Tensor(t.Data, t.Shape[0], 1, t.Shape[1]);
    }

    /// <summary>
    /// Class ids [batch, time] from int32/int64, or from floats holding whole numbers; each must be
    /// in [0, 2^24) so it is exact as a float32. Returns them as floats and the largest id.
    /// </summary>
    public static (Tensor Ids, long MaxId) ReadClassIds(string path) => ReadClassIds(path, perStep: true);

    /// <summary>Class ids [batch, time] (<paramref name="perStep"/>) or [batch] (one per sequence, many-to-one).</summary>
    public static (Tensor Ids, long MaxId) ReadClassIds(string path, bool perStep)
    {
        var array = NpyArray.Read(path);
        int rank = perStep ? 2 : 1;
        if (array.Shape.Length != rank)
            throw new ShapeException(perStep
                ? $"{path}: cross-entropy targets must have 2 dimensions [batch, time] of class ids, found {ShapeText(array.Shape)}"
                    + (array.Shape.Length == 3 ? " (for one-hot or real-valued targets use --loss mse or bce)" : "")
                : $"{path}: many-to-one cross-entropy targets must have 1 dimension [batch]: one class id per sequence, found {ShapeText(array.Shape)}"
                    + (array.Shape.Length == 2 ? " (for real-valued targets [batch, output] use --loss mse or bce)" : ""));
        RequireNonEmpty(array, path, "the targets");
        long[] ids = array.ToInt64();
        long max = -1;
        var data = new float[ids.Length];
        int width = perStep ? array.Shape[1] : 1;
        for (int k = 0; k < ids.Length; k++)
        {
            long id = ids[k];
            if (id < 0 || id >= 1 << 24)
                throw new ShapeException($"{path}: class id {id} at {(perStep ? $"[{k / width}, {k % width}]" : $"[{k}]")} is outside [0, {1 << 24})");
            max = Math.Max(max, id);
            data[k] = id;
        }
        return (new Tensor(data, array.Shape), max);
    }

    /// <summary>Many-to-one targets [batch, output] as float32.</summary>
    public static Tensor ReadRows(string path, string what)
    {
        var array = NpyArray.Read(path);
        RequireFloat(array, path, what);
        if (array.Shape.Length != 2)
            throw new ShapeException($"{path}: {what} must have 2 dimensions [batch, output] (one target per sequence), found {ShapeText(array.Shape)}");
        RequireNonEmpty(array, path, what);
        return RequireFinite(array.ToTensor(), path, what);
    }

    /// <summary>
    /// Sequence lengths [batch]: int32/int64, or floats holding whole numbers; <paramref name="batch"/> of them,
    /// each in [1, <paramref name="time"/>]. Errors name the file and the file the lengths belong to.
    /// </summary>
    public static int[] ReadLengths(string path, int batch, int time, string sequencesPath)
    {
        var array = NpyArray.Read(path);
        if (array.Shape.Length != 1)
            throw new ShapeException($"{path}: lengths must have 1 dimension [batch] (one length per sequence), found {ShapeText(array.Shape)}");
        if (array.Shape[0] != batch)
            throw new ShapeException($"{path}: {array.Shape[0]} lengths, but {sequencesPath} holds {batch} sequences: one length per sequence");
        long[] values = array.ToInt64();
        var lengths = new int[batch];
        for (int b = 0; b < batch; b++)
        {
            if (values[b] < 1 || values[b] > time)
                throw new ShapeException($"{path}: length {values[b]} of sequence {b} is outside [1, {time}] ({sequencesPath} has {time} time steps)");
            lengths[b] = (int)values[b];
        }
        return lengths;
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
