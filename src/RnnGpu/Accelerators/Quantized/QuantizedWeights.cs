namespace RnnGpu.Accelerators;

/// <summary>How a model's weight matrices are stored for inference (<see cref="Model.RnnModel.Quantize"/>).</summary>
public enum QuantizedWeights
{
    /// <summary>float32, as trained.</summary>
    Fp32,

    /// <summary>Symmetric int8 per output row (one float scale per row), activations quantized per row and step.</summary>
    Int8,

    /// <summary>bfloat16 (float32's top 16 bits, rounded to nearest even), activations in float32.</summary>
    Bf16,
}

public static class QuantizedWeightsNames
{
    public static string ToName(this QuantizedWeights kind) => kind switch
    {
        QuantizedWeights.Int8 => "int8",
        QuantizedWeights.Bf16 => "bf16",
        _ => "fp32",
    };

    /// <summary>fp32, int8 or bf16 (any case); anything else is refused by name.</summary>
    public static QuantizedWeights Parse(string name) => name.ToLowerInvariant() switch
    {
        "fp32" => QuantizedWeights.Fp32,
        "int8" => QuantizedWeights.Int8,
        "bf16" => QuantizedWeights.Bf16,
        _ => throw new ShapeException($"weights '{name}' is not one of fp32, int8, bf16"),
    };
}
