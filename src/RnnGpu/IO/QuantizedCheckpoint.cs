using RnnGpu.Accelerators;
using RnnGpu.Model;

namespace RnnGpu.IO;

/// <summary>
/// A quantized model in a safetensors checkpoint: each weight matrix W as "W.int8" (I8, [rows, cols]) with "W.scale" (F32,
/// [rows]: W ≈ int8 * scale row by row), or as "W.bf16" (BF16, [rows, cols]); biases stay under their float32 names, and the
/// metadata's "weights" says int8 or bf16. On loading, the quantized tensors become the model's quantized weights and their
/// values its float32 parameters, so the rest of <see cref="Checkpoint"/> reads the file as it reads a float32 one.
/// </summary>
internal static class QuantizedCheckpoint
{
    public const string WeightsKey = "weights";
    private const string Int8Suffix = ".int8", ScaleSuffix = ".scale", Bf16Suffix = ".bf16";

    /// <summary>The tensors to write and their element types: the biases F32, the weights quantized.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, SafetensorsDType> DTypes) Tensors(RnnModel model)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var dtypes = new Dictionary<string, SafetensorsDType>(StringComparer.Ordinal);
        var quantized = model.QuantizedParameters;
        foreach (var (name, value) in model.StateDict())
        {
            if (!quantized.TryGetValue(name, out var w))
            {
                tensors[name] = value;
                continue;
            }
            if (w.Kind == QuantizedWeights.Int8)
            {
                tensors[name + Int8Suffix] = new Tensor(w.Int8Values.ToArray().Select(v => (float)v).ToArray(), w.Rows, w.Cols);
                dtypes[name + Int8Suffix] = SafetensorsDType.I8;
                tensors[name + ScaleSuffix] = new Tensor(w.Scales.ToArray(), w.Rows);
            }
            else
            {
                tensors[name + Bf16Suffix] = new Tensor(w.Bf16Values.ToArray().Select(Bf16.ToFloat).ToArray(), w.Rows, w.Cols);
                dtypes[name + Bf16Suffix] = SafetensorsDType.BF16;
            }
        }
        return (tensors, dtypes);
    }

    /// <summary>
    /// The kind a file's weights are stored in (fp32 when it has no quantized tensors), and for a quantized file a view of it
    /// whose weights are float32 under their plain names, with the quantized matrices apart. Checked: each quantized
    /// tensor's dtype, an int8 tensor's scales and their shape, no tensor both plain and quantized.
    /// </summary>
    public static (QuantizedWeights Kind, SafetensorsFile Plain, Dictionary<string, QuantizedMatrix> Weights) Split(SafetensorsFile file)
    {
        var t = file.Tensors;
        bool int8 = t.Keys.Any(k => k.EndsWith(Int8Suffix, StringComparison.Ordinal)), bf16 = t.Keys.Any(k => k.EndsWith(Bf16Suffix, StringComparison.Ordinal));
        var weights = new Dictionary<string, QuantizedMatrix>(StringComparer.Ordinal);
        if (int8 && bf16) throw new FileFormatException(file.Path, "the checkpoint mixes int8 and bf16 weights");
        var kind = int8 ? QuantizedWeights.Int8 : bf16 ? QuantizedWeights.Bf16 : QuantizedWeights.Fp32;
        if (file.Metadata.TryGetValue(WeightsKey, out var said) && said != kind.ToName())
            throw new FileFormatException(file.Path, $"metadata '{WeightsKey}' says {said} but the tensors are {kind.ToName()}");
        if (kind == QuantizedWeights.Fp32)
        {
            var stray = t.Keys.FirstOrDefault(k => k.EndsWith(ScaleSuffix, StringComparison.Ordinal));
            if (stray is not null) throw new FileFormatException(file.Path, $"scales '{stray}' without their int8 tensor '{stray[..^ScaleSuffix.Length]}{Int8Suffix}'");
            return (kind, file, weights);
        }
        var plain = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in t)
        {
            string suffix = kind == QuantizedWeights.Int8 ? Int8Suffix : Bf16Suffix;
            if (key.EndsWith(ScaleSuffix, StringComparison.Ordinal))
            {
                if (!t.ContainsKey(key[..^ScaleSuffix.Length] + Int8Suffix))
                    throw new FileFormatException(file.Path, $"scales '{key}' without their int8 tensor '{key[..^ScaleSuffix.Length]}{Int8Suffix}'");
                continue;
            }
            if (!key.EndsWith(suffix, StringComparison.Ordinal))
            {
                plain[key] = tensor;
                continue;
            }
            string name = key[..^suffix.Length];
            if (t.ContainsKey(name)) throw new FileFormatException(file.Path, $"'{name}' is stored both as float32 and as '{key}'");
            string expected = kind == QuantizedWeights.Int8 ? "I8" : "BF16";
            if (file.DTypes.GetValueOrDefault(key) != expected)
                throw new FileFormatException(file.Path, $"tensor '{key}' is {file.DTypes.GetValueOrDefault(key)}, expected {expected}");
            if (tensor.Rank != 2) throw new FileFormatException(file.Path, $"quantized tensor '{key}' has shape {tensor.ShapeText}, expected [rows, cols]");
            int rows = tensor.Shape[0], cols = tensor.Shape[1];
            try
            {
                weights[name] = kind == QuantizedWeights.Int8
                    ? QuantizedMatrix.FromInt8(tensor.Data.Select(v => (sbyte)v).ToArray(), Scales(file, name), rows, cols, key)
                    : QuantizedMatrix.FromBf16(tensor.Data.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray(), rows, cols, key);
            }
            catch (ShapeException e) { throw new FileFormatException(file.Path, e.Message); }
            plain[name] = new Tensor(weights[name].Dequantize(), rows, cols);
        }
        return (kind, new SafetensorsFile(file.Path, plain, file.Metadata), weights);
    }

    private static float[] Scales(SafetensorsFile file, string name)
    {
        if (!file.Tensors.TryGetValue(name + ScaleSuffix, out var scales))
            throw new FileFormatException(file.Path, $"int8 tensor '{name}{Int8Suffix}' has no scales: '{name}{ScaleSuffix}' is missing");
        if (scales.Rank != 1)
            throw new FileFormatException(file.Path, $"scales '{name}{ScaleSuffix}' have shape {scales.ShapeText}, expected [rows]");
        return scales.Data;
    }
}
