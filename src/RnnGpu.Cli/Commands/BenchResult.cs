using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RnnGpu.Cli.Commands;

/// <summary>
/// One JSON line of `rnngpu bench`. The op decides which fields apply; the others are left out
/// (null), so an `rnn` line has exactly the fields it always had, plus `op`.
/// </summary>
internal sealed record BenchResult(
    string Backend, string Device, string Op, string? Mode,
    int? Batch, int? Seq, int? Input, int? Hidden, int? Layers, int? Output, string? Nonlinearity,
    int? M, int? N, int? K,
    int Iters, double MsPerIter, double MsMin, double MsMax, double Gflops,
    double? UsPerStep, double? BytesPerStep)
{
    /// <summary>The cell of op rnn and stream (lstm or gru); left out for the Elman cell, so its lines keep their shape.</summary>
    public string? Cell { get; init; }

    /// <summary>int8 or bf16 for a quantized model; left out for float32.</summary>
    public string? Weights { get; init; }

    /// <summary>A quantized model's infer line: its outputs' relative L2 distance from the float32 model's (same seed, same batch).</summary>
    public double? RelError { get; init; }

    /// <summary>An LSTM's projection size, when it has one.</summary>
    public int? ProjSize { get; init; }

    /// <summary>True when the run was batch-invariant; left out otherwise, so default lines keep their shape.</summary>
    public bool? BatchInvariant { get; init; }

    /// <summary>CPU back end: how often the team changed its settled choice between sharing jobs and running them alone.</summary>
    public int? TeamSwitches { get; init; }

    /// <summary>CPU back end: true when jobs had settled alone (measured faster than the team) by the end of the run.</summary>
    public bool? TeamAlone { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Rounds to <paramref name="digits"/> significant digits, so the lines stay short.</summary>
    public static double Significant(double value, int digits) =>
        double.Parse(value.ToString("G" + digits, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
