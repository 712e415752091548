using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu;
using RnnGpu.Model;
using RnnGpu.Tests.Support;
using RnnGpu.Training;

namespace RnnGpu.Tests.Model;

/// <summary>
/// In a batch-invariant pass (<see cref="BatchInvariance"/>), a sequence batched with others of other lengths gets bit for bit
/// what it gets alone (a batch of one, its own length, its own initial state), wherever it sits in the batch.
/// </summary>
public sealed class BatchInvarianceTests
{
    private const int Time = 6;
    private static readonly int[] Batches = [1, 3, 5, 9, 17];

    /// <summary>Hidden sizes: odd ones (edge panels and tiles), 256 (full AVX-512 panels, the team), 300 (K past one 256-deep GEMM slice).</summary>
    private static readonly RnnConfig[] Configs =
    [
        new(3, 7),
        new(5, 37, 2, Activation.Relu, OutputSize: 4),
        new(4, 100, 2, Activation.Tanh, OutputSize: 3, Bidirectional: true, HeadInput: HeadInput.FinalState),
        new(6, 256, 1, Activation.Tanh, OutputSize: 5),
        new(3, 300, 2, Activation.Relu, OutputSize: 2, Bidirectional: true),
        new(2, 37, 3, Activation.Tanh, Bidirectional: true),
        new(3, 37, 2, OutputSize: 3, Bidirectional: true, Cell: CellKind.Lstm, ProjSize: 11),
        new(4, 100, 2, OutputSize: 2, HeadInput: HeadInput.FinalState, Cell: CellKind.Gru),
        new(5, 256, 1, OutputSize: 3, Cell: CellKind.Lstm),
    ];

    public static TheoryData<string> BackendNames => TestBackends.Names;

    public static TheoryData<string, int> BackendsAndConfigs
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (var backend in TestBackends.Names)
                for (int c = 0; c < Configs.Length; c++)
                {
                    // ILGPU's CPU accelerator (an OS thread per simulated GPU thread) takes minutes over the wide
                    // configurations; its kernels have no path that depends on the width (no 256-wide panels, no
                    // K slices), so the configurations up to 100 units cover them.
                    if (backend.Data == "ilgpu-cpu" && Configs[c].HiddenSize > 100) continue;
                    data.Add(backend.Data, c);
                }
            return data;
        }
    }

    public static TheoryData<string, int, int> NarrowedCpu
    {
        get
        {
            var data = new TheoryData<string, int, int>();
            foreach (var isa in new[] { nameof(GemmIsa.Vector512), nameof(GemmIsa.Vector256), nameof(GemmIsa.Scalar) })
                foreach (int members in new[] { 0, 3 })
                    foreach (int c in new[] { 1, 2, 4 })
                        data.Add(isa, members, c);
            return data;
        }
    }

    /// <summary>The unidirectional configurations, every cell, float32 and quantized.</summary>
    public static IEnumerable<TheoryDataRow<string, int, QuantizedWeights>> StreamCases() =>
        from backend in TestBackends.Names
        from c in Enumerable.Range(0, Configs.Length)
        where !Configs[c].Bidirectional && (backend.Data != "ilgpu-cpu" || Configs[c].HiddenSize <= 100)
        from weights in new[] { QuantizedWeights.Fp32, QuantizedWeights.Int8 }
        select new TheoryDataRow<string, int, QuantizedWeights>(backend.Data, c, weights);

    /// <summary>A batch-invariant stream stepped one step at a time gives the whole sequence's outputs and final state, bit for bit.</summary>
    [Theory]
    [MemberData(nameof(StreamCases))]
    public void A_batch_invariant_stream_gives_the_whole_sequence_bits(string backend, int configIndex, QuantizedWeights weights)
    {
        var config = Configs[configIndex];
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(config, acc, seed: 70 + configIndex);
        model.Quantize(weights);
        var x = Numerics.Random(new Random(configIndex), Time * config.InputSize);
        using var invariant = BatchInvariance.Begin();
        var whole = model.Forward(new Tensor(x, 1, Time, config.InputSize));
        using var stream = model.CreateStream();
        var output = new float[config.OutputWidth];
        var stepped = new List<float>();
        for (int t = 0; t < Time; t++)
        {
            stream.Step(x.AsSpan(t * config.InputSize, config.InputSize), output);
            if (!config.ManyToOne || t == Time - 1) stepped.AddRange(output);
        }
        var state = new float[stream.StateLength];
        stream.GetState(state);
        Assert.Equal(whole.Output.Data, stepped);
        Assert.Equal(config.HasCellState ? [.. whole.FinalState.Data, .. whole.FinalCell!.Data] : whole.FinalState.Data, state);
    }

    [Theory]
    [MemberData(nameof(BackendsAndConfigs))]
    public void A_batched_sequence_equals_itself_alone(string backend, int config)
    {
        using var acc = TestBackends.Open(backend);
        using var pass = BatchInvariance.Begin();
        CheckBatches(acc, Configs[config], seed: config);
    }

    /// <summary>The CPU's other kernels (AVX2, scalar: the step loop instead of the AVX-512 recurrence) and other team sizes.</summary>
    [Theory]
    [MemberData(nameof(NarrowedCpu))]
    public void A_batched_sequence_equals_itself_alone_on_narrowed_cpu_kernels(string isa, int members, int config)
    {
        using var acc = Backends.Open("cpu");
        using var pass = BatchInvariance.Begin();
        GemmIsaChoice.NarrowForThisThread(Enum.Parse<GemmIsa>(isa));
        GemmThreading.SimulateMembersForThisThread(members);
        try
        {
            CheckBatches(acc, Configs[config], seed: 100 + config);
        }
        finally
        {
            GemmIsaChoice.NarrowForThisThread(null);
            GemmThreading.SimulateMembersForThisThread(0);
        }
    }

    /// <summary>
    /// Several models on one CPU accelerator, forward passes from two threads at once (one owns the team, the
    /// other runs alone): the same bits as one after the other, in either mode.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Concurrent_forward_passes_equal_sequential_ones(bool invariant)
    {
        using var acc = Backends.Open("cpu");
        using var pass = BatchInvariance.Begin(invariant);
        var config = new RnnConfig(6, 256, 2, OutputSize: 5, Bidirectional: true);
        using var first = RnnModel.Create(config, acc, seed: 3);
        using var second = RnnModel.FromParameters(config, acc, first.StateDict());
        var rng = new Random(5);
        (int Batch, int[]? Lengths)[] shapes = [(3, [6, 2, 5]), (1, null), (5, null), (4, [1, 6, 3, 6])];
        var jobs = shapes
            .Select(j => (Input: new Tensor(Numerics.Random(rng, j.Batch * Time * config.InputSize), j.Batch, Time, config.InputSize), j.Lengths))
            .ToArray();
        var expected = jobs.Select(j => first.Forward(j.Input, lengths: j.Lengths)).ToArray();

        using var start = new Barrier(2);
        var tasks = new[] { first, second }.Select((model, m) => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (int round = 0; round < 10; round++)
                for (int j = 0; j < jobs.Length; j++)
                {
                    int job = (j + m) % jobs.Length;   // the threads run different shapes at the same time
                    var got = model.Forward(jobs[job].Input, lengths: jobs[job].Lengths);
                    AssertBits(expected[job].Output.Data, got.Output.Data, $"thread {m}, job {job}: output");
                    AssertBits(expected[job].FinalState.Data, got.FinalState.Data, $"thread {m}, job {job}: final state");
                }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(tasks);
    }

    /// <summary>
    /// A pass is its caller's: a thread already running beside it keeps the default; what the pass starts and awaits
    /// stays in it; scopes nest and end once.
    /// </summary>
    [Fact]
    public async Task A_batch_invariant_pass_belongs_to_its_caller()
    {
        Assert.False(BatchInvariance.IsActive);
        using var inside = new Barrier(2);
        bool? neighbour = null;
        var other = new Thread(() =>
        {
            inside.SignalAndWait();   // the pass has begun
            neighbour = BatchInvariance.IsActive;
            inside.SignalAndWait();
        });
        other.Start();
        using (BatchInvariance.Begin())
        {
            inside.SignalAndWait(TestContext.Current.CancellationToken);
            inside.SignalAndWait(TestContext.Current.CancellationToken);
            Assert.True(BatchInvariance.IsActive);
            Assert.True(await Task.Run(() => BatchInvariance.IsActive, TestContext.Current.CancellationToken));
            Assert.True(BatchInvariance.IsActive);   // after the await, wherever it resumed
            var outer = BatchInvariance.Begin();
            using (BatchInvariance.Begin(false)) Assert.True(BatchInvariance.IsActive);
            outer.Dispose();
            outer.Dispose();
            Assert.True(BatchInvariance.IsActive);
        }
        other.Join();
        Assert.False(neighbour);
        Assert.False(BatchInvariance.IsActive);
    }

    /// <summary>
    /// Training in batch-invariant mode, where variable lengths run in stretches of whole-sequence calls: the loss and
    /// every gradient agree with the default mode's (to rounding), so the states each step started from were kept right.
    /// </summary>
    [Theory]
    [MemberData(nameof(BackendNames))]
    public void Invariant_training_gradients_agree_with_the_default_ones(string backend)
    {
        using var acc = TestBackends.Open(backend);
        var config = new RnnConfig(3, 37, 2, Activation.Tanh, OutputSize: 2, Bidirectional: true);
        using var model = RnnModel.Create(config, acc, seed: 8);
        var rng = new Random(9);
        int batch = 5, groups = config.NumLayers * config.Directions;
        var x = new Tensor(Numerics.Random(rng, batch * Time * config.InputSize), batch, Time, config.InputSize);
        var y = new Tensor(Numerics.Random(rng, batch * Time * config.OutputSize), batch, Time, config.OutputSize);
        var h0 = new Tensor(Numerics.Random(rng, groups * batch * config.HiddenSize), groups, batch, config.HiddenSize);
        int[] lengths = [6, 2, 6, 4, 2];
        var expected = model.ComputeGradients(x, y, LossKind.Mse, h0, lengths);
        GradientResult got;
        using (BatchInvariance.Begin()) got = model.ComputeGradients(x, y, LossKind.Mse, h0, lengths);
        Assert.Equal(expected.Loss, got.Loss, 1e-5);
        foreach (var (name, grad) in expected.Parameters)
            Numerics.AssertClose(grad.Data, got.Parameters[name].Data, 1e-4, 1e-6, name);
        Numerics.AssertClose(expected.Input.Data, got.Input.Data, 1e-4, 1e-6, "input gradient");
        Numerics.AssertClose(expected.InitialState.Data, got.InitialState.Data, 1e-4, 1e-6, "initial state gradient");
    }

    /// <summary>For each batch size: random lengths in [1, Time] (all Time in every other batch), a random initial state in every other.</summary>
    private static void CheckBatches(Accelerator acc, RnnConfig config, int seed)
    {
        using var model = RnnModel.Create(config, acc, seed);
        var rng = new Random(seed);
        int groups = config.NumLayers * config.Directions, hidden = config.StateSize, cells = config.HiddenSize, inSize = config.InputSize;
        foreach (int batch in Batches)
        {
            bool uniform = batch % 2 == 0, withState = batch % 4 == 1;
            var x = Numerics.Random(rng, batch * Time * inSize);
            var lengths = Enumerable.Range(0, batch).Select(_ => uniform ? Time : rng.Next(1, Time + 1)).ToArray();
            var h0 = withState ? Numerics.Random(rng, groups * batch * hidden) : null;
            if (batch > 2)
            {
                // The same sequence first and last.
                Array.Copy(x, 0, x, (batch - 1) * Time * inSize, Time * inSize);
                lengths[^1] = lengths[0];
                if (h0 is not null)
                    for (int g = 0; g < groups; g++) Array.Copy(h0, g * batch * hidden, h0, (g * batch + batch - 1) * hidden, hidden);
            }
            var batched = model.Forward(new Tensor(x, batch, Time, inSize), h0 is null ? null : new Tensor(h0, groups, batch, hidden), lengths);
            for (int b = 0; b < batch; b++)
            {
                int len = lengths[b];
                var xb = x.AsSpan(b * Time * inSize, len * inSize).ToArray();
                Tensor? hb = null;
                if (h0 is not null)
                {
                    var rows = new float[groups * hidden];
                    for (int g = 0; g < groups; g++) Array.Copy(h0, (g * batch + b) * hidden, rows, g * hidden, hidden);
                    hb = new Tensor(rows, groups, 1, hidden);
                }
                var alone = model.Forward(new Tensor(xb, 1, len, inSize), hb);
                string where = $"{config}, batch {batch}, row {b}, length {len}";
                int width = config.ManyToOne ? config.OutputSize : len * config.OutputWidth;
                int rowStride = config.ManyToOne ? config.OutputSize : Time * config.OutputWidth;
                AssertBits(alone.Output.Data, batched.Output.Data.AsSpan(b * rowStride, width), $"{where}: output");
                for (int g = 0; g < groups; g++)
                {
                    AssertBits(alone.FinalState.Data.AsSpan(g * hidden, hidden), batched.FinalState.Data.AsSpan((g * batch + b) * hidden, hidden),
                        $"{where}: final state of layer-direction {g}");
                    if (config.HasCellState)
                        AssertBits(alone.FinalCell!.Data.AsSpan(g * cells, cells), batched.FinalCell!.Data.AsSpan((g * batch + b) * cells, cells),
                            $"{where}: final cell state of layer-direction {g}");
                }
            }
        }
    }

    private static void AssertBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, alone it is {expected[i]:R}");
    }
}
