using RnnGpu.Accelerators;

namespace RnnGpu.Model;

/// <summary>
/// Inference with quantized weights. <see cref="Quantize"/> quantizes every weight matrix (each layer and direction's
/// W_ih, W_hh and an LSTM's W_hr, and the head's W) per output row, and writes the values they stand for back into
/// <see cref="Parameters"/>, so that every pass, stream and back end computes with the quantized weights: the CPU back end
/// runs its int8 and bf16 kernels over the quantized copies, the others the float32 values. Biases stay float32, as
/// ONNX Runtime and PyTorch keep them. Training stays float32: a quantized model runs inference only.
/// </summary>
public sealed partial class RnnModel
{
    private QuantizedWeights _weights;
    private IReadOnlyDictionary<string, QuantizedMatrix>? _quantized;

    /// <summary>How the weights are stored: fp32, or int8 or bf16 after <see cref="Quantize"/>.</summary>
    public QuantizedWeights Weights => _weights;

    /// <summary>Whether the weights are quantized (inference only).</summary>
    public bool IsQuantized => _weights != QuantizedWeights.Fp32;

    /// <summary>The names of the parameters that quantize: the weight matrices, not the biases.</summary>
    public IEnumerable<string> QuantizableNames =>
        Layout.Parameters.Where(p => p.Shape.Length == 2).Select(p => p.Name);

    /// <summary>
    /// Quantizes the weights to <paramref name="kind"/> (int8: symmetric per output row; bf16: rounded to nearest even).
    /// fp32 leaves a float32 model as it is. A model quantizes once; its inference views see the quantized weights.
    /// </summary>
    public void Quantize(QuantizedWeights kind)
    {
        if (kind == _weights) return;
        if (IsQuantized) throw new ShapeException($"the model's weights are already {_weights.ToName()}: quantize a float32 model");
        if (!_ownsParameters) throw new ShapeException("an inference view shares its model's weights: quantize the model itself");
        if (!Enum.IsDefined(kind)) throw new ShapeException($"unknown weights kind {(int)kind}");
        var all = Accelerator.ToArray(Parameters);
        var quantized = new Dictionary<string, QuantizedMatrix>();
        foreach (string name in QuantizableNames)
        {
            var info = Layout[name];
            quantized[name] = QuantizedMatrix.Quantize(kind, all.AsSpan((int)info.Offset, (int)info.Length), info.Shape[0], info.Shape[1]);
        }
        SetQuantized(kind, quantized, all);
    }

    /// <summary>
    /// Takes quantized weights made elsewhere (a quantized checkpoint): one for every weight matrix, of its shape and of one
    /// kind, with the float32 parameters holding the biases. Checked before anything is written.
    /// </summary>
    internal void LoadQuantized(QuantizedWeights kind, IReadOnlyDictionary<string, QuantizedMatrix> weights)
    {
        foreach (string name in QuantizableNames)
        {
            var info = Layout[name];
            if (!weights.TryGetValue(name, out var w)) throw new ShapeException($"quantized weight '{name}' {info.ShapeText} is missing");
            if (w.Kind != kind) throw new ShapeException($"weight '{name}' is {w.Kind.ToName()}, the others {kind.ToName()}");
            if (w.Rows != info.Shape[0] || w.Cols != info.Shape[1])
                throw new ShapeException($"quantized weight '{name}' is [{w.Rows}, {w.Cols}], expected {info.ShapeText}");
        }
        SetQuantized(kind, weights, Accelerator.ToArray(Parameters));
    }

    private void SetQuantized(QuantizedWeights kind, IReadOnlyDictionary<string, QuantizedMatrix> weights, float[] all)
    {
        foreach (string name in QuantizableNames)
        {
            var info = Layout[name];
            weights[name].Dequantize().CopyTo(all, info.Offset);
        }
        Accelerator.CopyIn(all, Parameters);
        foreach (string name in QuantizableNames) weights[name].Dequantized = Parameter(name);
        (_weights, _quantized) = (kind, weights);
    }

    /// <summary>The quantized copy of a weight matrix, or null for a float32 model.</summary>
    internal QuantizedMatrix? QuantizedWeight(string name) => _quantized?[name];

    /// <summary>Every quantized weight by its parameter's name (empty for a float32 model).</summary>
    public IReadOnlyDictionary<string, QuantizedMatrix> QuantizedParameters => _quantized ?? new Dictionary<string, QuantizedMatrix>();

    /// <summary>Refuses what a quantized model cannot do: training, and new weights that would leave the quantized copies stale.</summary>
    internal void CheckFloat32(string what)
    {
        if (IsQuantized) throw new ShapeException($"{what} needs float32 weights; this model's are {_weights.ToName()} (inference only)");
    }
}
