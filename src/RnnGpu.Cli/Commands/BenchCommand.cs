using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Training;

namespace RnnGpu.Cli.Commands;

/// <summary>
/// `rnngpu bench`: times the forward pass (infer) and a training step (train) of a random model on a
/// random batch, and prints one JSON line per mode.
/// </summary>
internal static class BenchCommand
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command Create(CliContext context)
    {
        var batch = new Option<int>("--batch") { Description = "Sequences per batch", DefaultValueFactory = _ => 32, HelpName = "B" }.AtLeast(1);
        var seq = new Option<int>("--seq") { Description = "Time steps per sequence", DefaultValueFactory = _ => 64, HelpName = "T" }.AtLeast(1);
        var input = new Option<int>("--input") { Description = "Input features per step", DefaultValueFactory = _ => 64, HelpName = "I" }.AtLeast(1);
        var hidden = new Option<int>("--hidden") { Description = "Hidden size", DefaultValueFactory = _ => 256, HelpName = "H" }.AtLeast(1);
        var layers = new Option<int>("--layers") { Description = "Stacked layers", DefaultValueFactory = _ => 1, HelpName = "L" }.AtLeast(1);
        var output = new Option<int>("--output") { Description = "Head output size (0: no head; the hidden states are the outputs)", DefaultValueFactory = _ => 0, HelpName = "O" }.AtLeast(0);
        var nonlinearity = CommonOptions.Nonlinearity("tanh");
        var mode = new Option<string>("--mode") { Description = "infer (forward), train (forward, loss, BPTT, SGD update) or both", DefaultValueFactory = _ => "both", HelpName = "train|infer|both" };
        mode.OneOf("train", "infer", "both");
        var warmup = new Option<int>("--warmup") { Description = "Untimed iterations first", DefaultValueFactory = _ => 3, HelpName = "W" }.AtLeast(0);
        var iters = new Option<int>("--iters") { Description = "Timed iterations", DefaultValueFactory = _ => 10, HelpName = "N" }.AtLeast(1);
        var seed = new Option<int>("--seed") { Description = "Seed of the random model and batch", DefaultValueFactory = _ => 0 };
        var backend = CommonOptions.Backend();
        var device = CommonOptions.Device();
        var command = new Command("bench", "Time the forward pass and the training step of a random model; one JSON line per mode")
        {
            batch, seq, input, hidden, layers, output, nonlinearity, mode, warmup, iters, seed, backend, device,
        };
        command.SetAction(parseResult =>
        {
            var act = parseResult.GetValue(nonlinearity) is { } n ? ActivationNames.Parse(n) : Activation.Tanh;
            var config = new RnnConfig(parseResult.GetValue(input), parseResult.GetValue(hidden), parseResult.GetValue(layers), act, parseResult.GetValue(output));
            int b = parseResult.GetValue(batch), t = parseResult.GetValue(seq), s = parseResult.GetValue(seed);
            int w = parseResult.GetValue(warmup), k = parseResult.GetValue(iters);
            string m = parseResult.GetValue(mode) ?? "both";

            using var accelerator = context.OpenBackend(parseResult.GetValue(backend) ?? "auto", parseResult.GetValue(device));
            using var model = RnnModel.Create(config, accelerator, s);
            var random = new Random(s + 1);
            var x = RandomTensor(random, b, t, config.InputSize);
            var y = RandomTensor(random, b, t, config.OutputWidth);
            double forwardFlops = ForwardFlops(config, b, t);

            if (m is "infer" or "both")
            {
                var times = Time(w, k, () => model.Forward(x));
                Print(context, accelerator, "infer", config, b, t, k, times, forwardFlops);
            }
            if (m is "train" or "both")
            {
                using var sgd = new Sgd(1e-4f);
                var trainer = new Trainer(model, sgd, LossKind.Mse);
                var times = Time(w, k, () => trainer.Step(x, y));
                // Training FLOPs are taken as 3x the forward pass: the backward pass costs about
                // twice the forward (one GEMM for the input/state gradients, one for the weight gradients).
                Print(context, accelerator, "train", config, b, t, k, times, 3 * forwardFlops);
            }
            return 0;
        });
        return command;
    }

    /// <summary>Σ over layers of 2·T·B·(in_l·H + H·H), plus the head's 2·T·B·H·O.</summary>
    public static double ForwardFlops(RnnConfig c, int batch, int time)
    {
        double tb = (double)time * batch, flops = 0;
        for (int l = 0; l < c.NumLayers; l++)
            flops += 2 * tb * ((double)c.LayerInputSize(l) * c.HiddenSize + (double)c.HiddenSize * c.HiddenSize);
        if (c.HasHead) flops += 2 * tb * c.HiddenSize * c.OutputSize;
        return flops;
    }

    private static double[] Time(int warmup, int iterations, Action run)
    {
        for (int i = 0; i < warmup; i++) run();
        var ms = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            ms[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return ms;
    }

    private static void Print(CliContext ctx, Accelerator acc, string mode, RnnConfig c, int batch, int time, int iters, double[] ms, double flops)
    {
        var sorted = ms.Order().ToArray();
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        var result = new BenchResult(
            acc.Kind.ToString().ToLowerInvariant(), acc.DeviceName, mode, batch, time, c.InputSize, c.HiddenSize, c.NumLayers,
            c.OutputSize, c.Nonlinearity.ToName(), iters, Significant(median, 6), Significant(sorted[0], 6), Significant(sorted[^1], 6),
            Significant(flops / (median * 1e6), 4));
        ctx.Out.WriteLine(JsonSerializer.Serialize(result, Json));
        ctx.Out.Flush();
    }

    private static double Significant(double value, int digits) =>
        double.Parse(value.ToString("G" + digits, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static Tensor RandomTensor(Random random, params int[] shape)
    {
        var data = new float[Tensor.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return new Tensor(data, shape);
    }

    private sealed record BenchResult(
        string Backend, string Device, string Mode, int Batch, int Seq, int Input, int Hidden, int Layers, int Output,
        string Nonlinearity, int Iters, double MsPerIter, double MsMin, double MsMax, double Gflops);
}
