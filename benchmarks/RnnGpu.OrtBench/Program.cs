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
///            [--seed S] [--check X.npy Y.npy] [--check-tolerance E]
///   ortbench quantize-lstm IN.onnx OUT.onnx      (LstmQuantizer: its LSTM nodes as DynamicQuantizeLSTM)
///
/// --check runs the model on X first and stops with an error unless its output matches PyTorch's Y within 1e-4 relative
/// (export_onnx.py writes both; --check-tolerance E for a quantized model); the line then gives the largest difference
/// as check_max_rel_error.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        try
        {
            if (args is ["quantize-lstm", var source, var target])
            {
                LstmQuantizer.Run(source, target);
                return 0;
            }
            var o = Options.Parse(args);
            using var session = OpenSession(o.Model, o.Threads);
            double? checkError = o.CheckInput is null ? null : Check(session, o.CheckInput, o.CheckOutput!, o.CheckTolerance);
            Console.WriteLine(Bench(session, o, checkError));
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

    /// <summary>The output y [B, T, H] of x [B, T, I] against PyTorch's, element by element, within the tolerance relative
    /// (absolute below 1); returns the largest relative difference.</summary>
    private static double Check(InferenceSession session, string xPath, string yPath, double tolerance)
    {
        var (x, xShape) = Npy.ReadFloat32(xPath);
        var (expected, yShape) = Npy.ReadFloat32(yPath);
        using var input = OrtValue.CreateTensorValueFromMemory(x, xShape);
        using var options = new RunOptions();
        using var results = session.Run(options, [session.InputNames[0]], [input], [session.OutputNames[0]]);
        long[] shape = results[0].GetTensorTypeAndShape().Shape;
        if (!shape.SequenceEqual(yShape))
            throw new ArgumentException($"check failed: ONNX Runtime's output has shape [{string.Join(", ", shape)}], PyTorch's ({yPath}) [{string.Join(", ", yShape)}]");
        var y = results[0].GetTensorDataAsSpan<float>();
        double worst = 0, diff2 = 0, norm2 = 0;
        int at = -1;
        for (int i = 0; i < y.Length; i++)
        {
            double error = Math.Abs(y[i] - expected[i]) / Math.Max(1, Math.Abs(expected[i]));
            if (!(error <= worst)) (worst, at) = (error, i);     // NaN counts as the worst
            (diff2, norm2) = (diff2 + (y[i] - expected[i]) * (double)(y[i] - expected[i]), norm2 + expected[i] * (double)expected[i]);
        }
        Console.Error.WriteLine($"check: largest difference {worst:G3}, relative L2 {Math.Sqrt(diff2 / norm2):G3}");
        if (!(worst <= tolerance))
            throw new ArgumentException($"check failed: ONNX Runtime's output {y[at]} at flat index {at} differs from PyTorch's {expected[at]} " +
                                        $"({yPath}) by {worst:G3} relative, over the {tolerance:G3} allowed: the model does not compute what PyTorch's does");
        return worst;
    }

    private static string Bench(InferenceSession session, Options o, double? checkError)
    {
        var random = new Random(o.Seed);
        var x = new float[(long)o.Batch * o.Seq * o.Input];
        for (long i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        // Inputs and outputs over arrays made once (OrtValue pins them) and bound once: a timed call is the run alone,
        // writing into the same memory every time, as a service reusing its buffers would.
        var y = new float[(long)o.Batch * o.Seq * o.Hidden];
        var h = new float[(long)o.Layers * o.Batch * o.Hidden];
        var c = new float[(long)o.Layers * o.Batch * o.Hidden];
        using var input = OrtValue.CreateTensorValueFromMemory(x, [o.Batch, o.Seq, o.Input]);
        using var output = OrtValue.CreateTensorValueFromMemory(y, [o.Batch, o.Seq, o.Hidden]);
        using var state = OrtValue.CreateTensorValueFromMemory(h, [o.Layers, o.Batch, o.Hidden]);
        using var cellState = OrtValue.CreateTensorValueFromMemory(c, [o.Layers, o.Batch, o.Hidden]);
        int outputs = o.Cell == "lstm" ? 3 : 2;
        if (session.InputNames.Count != 1 || session.OutputNames.Count != outputs)
            throw new ArgumentException($"{o.Model}: expected one input (x) and {outputs} outputs ({(outputs == 3 ? "y, h, c" : "y, h")}) as export_onnx.py " +
                                        $"writes for --cell {o.Cell}, got {session.InputNames.Count} and {session.OutputNames.Count}");
        using var binding = session.CreateIoBinding();
        binding.BindInput(session.InputNames[0], input);
        binding.BindOutput(session.OutputNames[0], output);
        binding.BindOutput(session.OutputNames[1], state);
        if (outputs == 3) binding.BindOutput(session.OutputNames[2], cellState);
        binding.SynchronizeBoundInputs();
        using var run = new RunOptions();
        session.RunWithBinding(run, binding);   // fails here, before any timing, if the shapes do not fit the model

        // As BenchTiming in rnngpu bench: at least W runs and at least a second (unless W is 0), then each run timed alone.
        long warmupStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < o.Warmup || (o.Warmup > 0 && Stopwatch.GetElapsedTime(warmupStart) < TimeSpan.FromSeconds(1)); i++)
            session.RunWithBinding(run, binding);
        var ms = new double[o.Iters];
        for (int i = 0; i < o.Iters; i++)
        {
            long start = Stopwatch.GetTimestamp();
            session.RunWithBinding(run, binding);
            ms[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(ms);
        double median = o.Iters % 2 == 1 ? ms[o.Iters / 2] : (ms[o.Iters / 2 - 1] + ms[o.Iters / 2]) / 2;
        // The flops of `rnngpu bench`: Seq x Σ over layers 2 B G H (in_l + H), G the cell's gates.
        double flops = 0;
        for (int l = 0; l < o.Layers; l++) flops += 2.0 * o.Batch * o.Gates * o.Hidden * ((double)(l == 0 ? o.Input : o.Hidden) + o.Hidden);
        flops *= o.Seq;
        var line = new Dictionary<string, object>
        {
            ["backend"] = "onnxruntime",
            ["device"] = $"CPU, ONNX Runtime {OrtEnv.Instance().GetVersionString()} (intra-op threads {o.Threads})",
            ["op"] = "rnn", ["mode"] = "infer", ["batch"] = o.Batch, ["seq"] = o.Seq, ["input"] = o.Input, ["hidden"] = o.Hidden,
            ["layers"] = o.Layers, ["output"] = 0, [o.Cell == "rnn" ? "nonlinearity" : "cell"] = o.Cell == "rnn" ? "tanh" : o.Cell, ["iters"] = o.Iters,
            ["ms_per_iter"] = Significant(median, 6), ["ms_min"] = Significant(ms[0], 6), ["ms_max"] = Significant(ms[^1], 6),
            ["gflops"] = Significant(flops / (median * 1e6), 4),
        };
        if (checkError is double error) line["check_max_rel_error"] = Significant(error, 3);   // --check passed, by this margin
        return JsonSerializer.Serialize(line);
    }

    private static double Significant(double value, int digits) =>
        double.Parse(value.ToString("G" + digits, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
