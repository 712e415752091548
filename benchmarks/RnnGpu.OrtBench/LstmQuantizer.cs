using Google.Protobuf;
using RnnGpu.OrtBench.Onnx;

namespace RnnGpu.OrtBench;

/// <summary>
/// `ortbench quantize-lstm IN.onnx OUT.onnx`: ONNX Runtime's dynamic quantization of an LSTM, done here because this
/// machine has no Python onnx or onnxruntime package for its quantization tools. As they do (quantization/operators/lstm.py),
/// each LSTM node becomes a com.microsoft DynamicQuantizeLSTM: W [D, 4H, I] and R [D, 4H, H] quantized to int8 per output
/// channel, symmetric (scale max |w| / 63, zero point 0: see <see cref="Levels"/>), and stored transposed, [D, I, 4H] and [D, H, 4H], with their
/// scales and zero points [D, 4H]. The rest of the model is left as it is.
/// </summary>
internal static class LstmQuantizer
{
    private const int Float = 1, Int8 = 3;

    /// <summary>
    /// Weights in [-63, 63] (their tools' reduce_range): ONNX Runtime's u8 x s8 products on AVX2 without VNNI use vpmaddubsw,
    /// whose int16 pair sums saturate with 8-bit weights (255 · 127 · 2 > 32767); with full-range weights its output here was
    /// 0.21 off PyTorch's (relative L2), with 7-bit ones 0.004, what the rounding alone gives.
    /// </summary>
    private const float Levels = 63f;

    public static void Run(string input, string output)
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(input));
        var graph = model.Graph;
        int quantized = 0;
        foreach (var node in graph.Node.Where(n => n.OpType == "LSTM" && n.Domain.Length == 0))
        {
            var (w, wScale, wZero) = Quantize(graph, node.Input[1], node.Name + "_W");
            var (r, rScale, rZero) = Quantize(graph, node.Input[2], node.Name + "_R");
            var inputs = node.Input.Concat(Enumerable.Repeat("", 8)).Take(8).ToArray();
            (inputs[1], inputs[2], inputs[7]) = (w, r, "");
            node.Input.Clear();
            node.Input.Add(inputs);
            node.Input.Add([wScale, wZero, rScale, rZero]);
            node.OpType = "DynamicQuantizeLSTM";
            node.Domain = "com.microsoft";
            quantized++;
        }
        if (quantized == 0) throw new ArgumentException($"{input} has no LSTM node to quantize");
        if (!model.OpsetImport.Any(o => o.Domain == "com.microsoft")) model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        File.WriteAllBytes(output, model.ToByteArray());
        Console.WriteLine($"{output}: {quantized} LSTM node(s) as DynamicQuantizeLSTM");
    }

    /// <summary>The float initializer [D, rows, cols] as int8 [D, cols, rows] with per-row scales and zero points [D, rows]: their names.</summary>
    private static (string Weights, string Scales, string Zeros) Quantize(GraphProto graph, string name, string prefix)
    {
        var tensor = graph.Initializer.FirstOrDefault(t => t.Name == name)
            ?? throw new ArgumentException($"LSTM weight '{name}' is not an initializer");
        if (tensor.DataType != Float || tensor.Dims.Count != 3) throw new ArgumentException($"LSTM weight '{name}' is not float [D, rows, cols]");
        int d = (int)tensor.Dims[0], rows = (int)tensor.Dims[1], cols = (int)tensor.Dims[2];
        float[] values = tensor.FloatData.Count > 0 ? [.. tensor.FloatData] : FromBytes(tensor.RawData.Span, d * rows * cols);
        var q = new byte[d * rows * cols];
        var scales = new float[d * rows];
        for (int g = 0; g < d; g++)
        for (int row = 0; row < rows; row++)
        {
            float max = 0;
            for (int c = 0; c < cols; c++) max = MathF.Max(max, MathF.Abs(values[(g * rows + row) * cols + c]));
            float scale = max > 0 ? max / Levels : 1f;
            scales[g * rows + row] = scale;
            for (int c = 0; c < cols; c++)
                q[(g * cols + c) * rows + row] = (byte)(sbyte)Math.Clamp(MathF.Round(values[(g * rows + row) * cols + c] / scale), -Levels, Levels);
        }
        string weights = prefix + "_quantized", scaleName = prefix + "_scale", zeroName = prefix + "_zero_point";
        graph.Initializer.Add(new TensorProto { Name = weights, DataType = Int8, Dims = { d, cols, rows }, RawData = ByteString.CopyFrom(q) });
        var scaleBytes = new byte[scales.Length * sizeof(float)];
        Buffer.BlockCopy(scales, 0, scaleBytes, 0, scaleBytes.Length);
        graph.Initializer.Add(new TensorProto { Name = scaleName, DataType = Float, Dims = { d, rows }, RawData = ByteString.CopyFrom(scaleBytes) });
        graph.Initializer.Add(new TensorProto { Name = zeroName, DataType = Int8, Dims = { d, rows }, RawData = ByteString.CopyFrom(new byte[d * rows]) });
        return (weights, scaleName, zeroName);
    }

    private static float[] FromBytes(ReadOnlySpan<byte> bytes, int count)
    {
        if (bytes.Length != count * sizeof(float)) throw new ArgumentException($"an initializer holds {bytes.Length} bytes, expected {count} floats");
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = BitConverter.ToSingle(bytes.Slice(i * 4, 4));
        return values;
    }
}
