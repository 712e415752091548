using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace RnnGpu.OrtBench;

/// <summary>
/// The ONNX Runtime side of benchmarks/compare_onnxruntime.sh: inference of an exported tanh nn.RNN (batch_first)
/// through ORT's C# API as a .NET service would run it at its fastest (one session, inputs and outputs bound once
/// and reused, so a timed call is the run alone), timed as `rnngpu bench` times its own (a warm-up of at least one
/// second, then each iteration on its own), printing the same JSON line. Independent of the engine on purpose.
///
///   ortbench --model M.onnx --batch B --seq T --input I --hidden H --layers L --threads K [--warmup W] [--iters N]
///            [--seed S] [--check X.npy Y.npy]
///
/// --check runs the model on X first and stops with an error unless its output matches PyTorch's Y within 1e-4.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        try
        {
            var o = Options.Parse(args);
            using var session = OpenSession(o.Model, o.Threads);
            if (o.CheckInput is not null) Check(session, o.CheckInput, o.CheckOutput!);
            Console.WriteLine(Bench(session, o));
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IOException or OnnxRuntimeException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static InferenceSession OpenSession(string model, int threads)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        return new InferenceSession(model, options);
    }

    /// <summary>The output y [B, T, H] of x [B, T, I] against PyTorch's, element by element.</summary>
    private static void Check(InferenceSession session, string xPath, string yPath)
    {
        var (x, xShape) = Npy.ReadFloat32(xPath);
        var (expected, _) = Npy.ReadFloat32(yPath);
        using var input = OrtValue.CreateTensorValueFromMemory(x, xShape);
        using var results = session.Run(new RunOptions(), [session.InputNames[0]], [input], [session.OutputNames[0]]);
        var y = results[0].GetTensorDataAsSpan<float>();
        if (y.Length != expected.Length) throw new ArgumentException($"{yPath}: {expected.Length} values, ONNX Runtime gave {y.Length}");
        for (int i = 0; i < y.Length; i++)
            if (Math.Abs(y[i] - expected[i]) > 1e-4 * Math.Max(1, Math.Abs(expected[i])))
                throw new ArgumentException($"ONNX Runtime's output {y[i]} at {i} differs from PyTorch's {expected[i]} ({yPath})");
    }

    private static string Bench(InferenceSession session, Options o)
    {
        var random = new Random(o.Seed);
        var x = new float[(long)o.Batch * o.Seq * o.Input];
        for (long i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        using var input = OrtValue.CreateTensorValueFromMemory(x, [o.Batch, o.Seq, o.Input]);
        using var binding = session.CreateIoBinding();
        binding.BindInput(session.InputNames[0], input);
        foreach (var name in session.OutputNames) binding.BindOutputToDevice(name, OrtMemoryInfo.DefaultInstance);
        using var run = new RunOptions();
        session.RunWithBinding(run, binding);   // the outputs are allocated here once, and reused by every later run

        long warmupStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < o.Warmup || Stopwatch.GetElapsedTime(warmupStart) < TimeSpan.FromSeconds(1); i++) session.RunWithBinding(run, binding);
        var ms = new double[o.Iters];
        for (int i = 0; i < o.Iters; i++)
        {
            long start = Stopwatch.GetTimestamp();
            session.RunWithBinding(run, binding);
            ms[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(ms);
        double median = o.Iters % 2 == 1 ? ms[o.Iters / 2] : (ms[o.Iters / 2 - 1] + ms[o.Iters / 2]) / 2;
        // The flops of `rnngpu bench`: Seq x Σ over layers 2 B (in_l H + H H).
        double flops = 0;
        for (int l = 0; l < o.Layers; l++) flops += 2.0 * o.Batch * ((double)(l == 0 ? o.Input : o.Hidden) * o.Hidden + (double)o.Hidden * o.Hidden);
        flops *= o.Seq;
        var line = new Dictionary<string, object>
        {
            ["backend"] = "onnxruntime",
            ["device"] = $"CPU, ONNX Runtime {OrtEnv.Instance().GetVersionString()} (intra-op threads {o.Threads})",
            ["op"] = "rnn", ["mode"] = "infer", ["batch"] = o.Batch, ["seq"] = o.Seq, ["input"] = o.Input, ["hidden"] = o.Hidden,
            ["layers"] = o.Layers, ["output"] = 0, ["nonlinearity"] = "tanh", ["iters"] = o.Iters,
            ["ms_per_iter"] = Significant(median, 6), ["ms_min"] = Significant(ms[0], 6), ["ms_max"] = Significant(ms[^1], 6),
            ["gflops"] = Significant(flops / (median * 1e6), 4),
        };
        return JsonSerializer.Serialize(line);
    }

    private static double Significant(double value, int digits) =>
        double.Parse(value.ToString("G" + digits, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
