using System.CommandLine;
using RnnGpu.Accelerators;
using RnnGpu.Model;

namespace RnnGpu.Cli.Commands;

/// <summary>
/// `rnngpu bench`: times one op of a random model or random operands and prints one JSON line per
/// result: rnn (the forward pass and/or a training step), gemm, step (one fused recurrent step) or
/// stream (one streaming step, with the bytes it allocates).
/// </summary>
internal static class BenchCommand
{
    /// <summary>Per op: (warmup, timed iterations) when not given. Steps take microseconds, so they get many more.</summary>
    private static readonly Dictionary<string, (int Warmup, int Iters)> Defaults = new()
    {
        ["rnn"] = (3, 10), ["gemm"] = (3, 10), ["recurrence"] = (3, 20), ["step"] = (200, 2000), ["stream"] = (1000, 20000),
    };

    public static Command Create(CliContext context)
    {
        var op = new Option<string>("--op") { Description = "rnn (forward pass / training step, see --mode), gemm (C[M,N] = A[M,K] B[K,N]), recurrence (one layer's recurrence over --seq steps, batch x hidden: the part of the forward pass after the input projection), step (one fused recurrent step, batch x hidden) or stream (one streaming step: µs and bytes allocated per step)", DefaultValueFactory = _ => "rnn", HelpName = "rnn|gemm|recurrence|step|stream" };
        op.OneOf([.. Defaults.Keys]);
        var batch = new Option<int>("--batch") { Description = "Sequences per batch", DefaultValueFactory = _ => 32, HelpName = "B" }.AtLeast(1);
        var seq = new Option<int>("--seq") { Description = "Time steps per sequence", DefaultValueFactory = _ => 64, HelpName = "T" }.AtLeast(1);
        var input = new Option<int>("--input") { Description = "Input features per step", DefaultValueFactory = _ => 64, HelpName = "I" }.AtLeast(1);
        var hidden = new Option<int>("--hidden") { Description = "Hidden size", DefaultValueFactory = _ => 256, HelpName = "H" }.AtLeast(1);
        var layers = new Option<int>("--layers") { Description = "Stacked layers", DefaultValueFactory = _ => 1, HelpName = "L" }.AtLeast(1);
        var output = new Option<int>("--output") { Description = "Head output size (0: no head; the hidden states are the outputs)", DefaultValueFactory = _ => 0, HelpName = "O" }.AtLeast(0);
        var nonlinearity = CommonOptions.Nonlinearity("tanh");
        var cell = CommonOptions.Cell();
        var projSize = CommonOptions.ProjSize();
        var weights = CommonOptions.Weights();
        var mode = new Option<string>("--mode")
        {
            Description = "op rnn: infer (forward into a reused output), infer-alloc (forward returning a fresh output), train (forward, loss, BPTT, SGD update) or both (infer and train)",
            DefaultValueFactory = _ => "both",
            HelpName = "train|infer|infer-alloc|both",
        };
        mode.OneOf("train", "infer", "infer-alloc", "both");
        // gemm defaults to the input projection of the rnn shape: [B·T, I] x [I, H].
        var m = new Option<int?>("--m") { Description = "op gemm: rows of A and C (default batch x seq)", HelpName = "M" }.AtLeast(1);
        var n = new Option<int?>("--n") { Description = "op gemm: columns of B and C (default hidden)", HelpName = "N" }.AtLeast(1);
        var k = new Option<int?>("--k") { Description = "op gemm: columns of A, rows of B (default input)", HelpName = "K" }.AtLeast(1);
        var warmup = new Option<int?>("--warmup") { Description = "Untimed iterations first (default 3; step 200, stream 1000)", HelpName = "W" }.AtLeast(0);
        var iters = new Option<int?>("--iters") { Description = "Timed iterations (default 10; step 2000, stream 20000)", HelpName = "N" }.AtLeast(1);
        var seed = new Option<int>("--seed") { Description = "Seed of the random model and batch", DefaultValueFactory = _ => 0 };
        var invariant = new Option<bool>("--batch-invariant") { Description = "Run batch-invariant passes (BatchInvariance), to measure what they cost" };
        var backend = new BackendOptions();
        var command = new Command("bench", "Time an op (rnn: the forward pass and the training step; gemm; recurrence; step; stream) on random data; one JSON line per result")
        {
            op, batch, seq, input, hidden, layers, output, nonlinearity, cell, projSize, weights, mode, m, n, k, warmup, iters, seed, invariant,
        };
        backend.AddTo(command);
        command.Validators.Add(result =>
        {
            string cellName = result.GetValue(cell) ?? "rnn";
            if (cellName != "rnn" && result.GetValue(op) is "recurrence" or "step")
                result.AddError($"--op {result.GetValue(op)} times the Elman cell's kernels; time an {cellName} with --op rnn or --op stream");
            if (cellName != "rnn" && result.IsGiven(nonlinearity))
                result.AddError($"--nonlinearity applies to --cell rnn; the {cellName} cell has its own gates");
            if (result.GetValue(weights) is "int8" or "bf16")
            {
                string opName = result.GetValue(op) ?? "rnn";
                if (opName is not ("rnn" or "stream"))
                    result.AddError($"--weights {result.GetValue(weights)} applies to --op rnn and --op stream");
                else if (opName == "rnn" && (result.GetValue(mode) ?? "both") is "train" or "both")
                    result.AddError($"--weights {result.GetValue(weights)} runs inference only: give --mode infer (training stays float32)");
            }
            if (result.IsGiven(projSize) && cellName != "lstm")
                result.AddError("--proj-size applies to --cell lstm");
        });
        command.SetAction(parseResult =>
        {
            string o = parseResult.GetValue(op) ?? "rnn";
            var act = parseResult.GetValue(nonlinearity) is { } name ? ActivationNames.Parse(name) : Activation.Tanh;
            var config = new RnnConfig(parseResult.GetValue(input), parseResult.GetValue(hidden), parseResult.GetValue(layers), act, parseResult.GetValue(output),
                Cell: CellKindNames.ParseCell(parseResult.GetValue(cell) ?? "rnn"), ProjSize: parseResult.GetValue(projSize) ?? 0);
            config.Validate();
            var shape = new BenchShape(config, parseResult.GetValue(batch), parseResult.GetValue(seq), parseResult.GetValue(seed),
                QuantizedWeightsNames.Parse(parseResult.GetValue(weights) ?? "fp32"));
            int w = parseResult.GetValue(warmup) ?? Defaults[o].Warmup, its = parseResult.GetValue(iters) ?? Defaults[o].Iters;

            using var accelerator = context.OpenBackend(backend.Read(parseResult));
            using var pass = BatchInvariance.Begin(parseResult.GetValue(invariant));
            var results = o switch
            {
                "gemm" => [BenchOps.Gemm(accelerator, parseResult.GetValue(m) ?? shape.Batch * shape.Seq, parseResult.GetValue(n) ?? config.HiddenSize,
                    parseResult.GetValue(k) ?? config.InputSize, shape.Seed, w, its)],
                "recurrence" => [BenchOps.Recurrence(accelerator, shape, w, its)],
                "step" => [BenchOps.Step(accelerator, shape, w, its)],
                "stream" => [BenchOps.Stream(accelerator, shape, w, its)],
                _ => BenchOps.Rnn(accelerator, shape, parseResult.GetValue(mode) ?? "both", w, its),
            };
            // Printed as each result comes, so a slow train line does not hold back the infer line.
            foreach (var result in results)
            {
                context.Out.WriteLine(result.ToJson());
                context.Out.Flush();
            }
            return 0;
        });
        return command;
    }
}
