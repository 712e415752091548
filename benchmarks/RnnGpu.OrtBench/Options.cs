using System.Globalization;

namespace RnnGpu.OrtBench;

/// <summary>The command line of ortbench: every option is --name value.</summary>
internal sealed record Options(string Model, int Batch, int Seq, int Input, int Hidden, int Layers, int Threads, int Warmup, int Iters, int Seed,
    string? CheckInput, string? CheckOutput, string Cell = "rnn", double CheckTolerance = 1e-4)
{
    /// <summary>Row blocks of the cell's weights: 1 (rnn), 4 (lstm), 3 (gru).</summary>
    public int Gates => Cell switch { "lstm" => 4, "gru" => 3, _ => 1 };

    public static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>();
        string? checkInput = null, checkOutput = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--check" && i + 2 < args.Length)
            {
                (checkInput, checkOutput) = (args[i + 1], args[i + 2]);
                i += 2;
                continue;
            }
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"expected --name value, got '{args[i]}'");
            values[args[i][2..]] = args[++i];
        }
        int Int(string name, int? fallback = null)
        {
            if (!values.Remove(name, out var text))
                return fallback ?? throw new ArgumentException($"--{name} is required");
            int v = int.Parse(text, CultureInfo.InvariantCulture);
            return v >= 1 || (name == "warmup" && v == 0) ? v : throw new ArgumentException($"--{name} must be at least 1, got {v}");
        }
        if (!values.Remove("model", out var model)) throw new ArgumentException("--model is required");
        string cell = values.Remove("cell", out var c) ? c : "rnn";
        double tolerance = values.Remove("check-tolerance", out var t) ? double.Parse(t, CultureInfo.InvariantCulture) : 1e-4;
        if (cell is not ("rnn" or "lstm" or "gru")) throw new ArgumentException($"--cell is rnn, lstm or gru, got '{cell}'");
        var o = new Options(model, Int("batch"), Int("seq"), Int("input"), Int("hidden"), Int("layers", 1), Int("threads", 1), Int("warmup", 3),
            Int("iters", 10), Int("seed", 0), checkInput, checkOutput, cell, tolerance);
        if (values.Count > 0) throw new ArgumentException($"unknown option --{values.Keys.First()}");
        return o;
    }
}
