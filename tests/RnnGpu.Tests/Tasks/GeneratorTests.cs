using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Tasks;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Tasks;

public sealed class GeneratorTests
{
    public static TheoryData<string> Backends => TestBackends.Names;

    /// <summary>Sequence b of a batch-first [B, T, F] tensor, steps [0, steps), as a new [1, steps, F] tensor.</summary>
    private static Tensor Row(Tensor t, int b, int steps)
    {
        int time = t.Shape[1], f = t.Shape[2];
        return new Tensor(t.Data.AsSpan(b * time * f, steps * f).ToArray(), 1, steps, f);
    }

    private static Tensor Concat(Tensor a, Tensor b)   // [1, Ta, F] ++ [1, Tb, F]
    {
        int f = a.Shape[2];
        return new Tensor([.. a.Data, .. b.Data], 1, a.Shape[1] + b.Shape[1], f);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Each_output_fed_back_gives_what_one_forward_pass_over_the_whole_history_gives(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(new RnnConfig(3, 6, 2, Activation.Tanh, 3), acc, seed: 4);
        var rng = new Random(2);
        var prompt = new Tensor(Numerics.Random(rng, 2 * 4 * 3), 2, 4, 3);
        var h0 = new Tensor(Numerics.Random(rng, 2 * 2 * 6, 0.5f), 2, 2, 6);
        const int steps = 5;
        var result = new Generator(model).Generate(prompt, steps, h0);
        Assert.Equal([2, steps, 3], result.Output.Shape);
        Assert.Equal([2, steps, 3], result.FedBack.Shape);
        Assert.Equal(result.Output.Data, result.FedBack.Data);   // identity feedback

        for (int b = 0; b < 2; b++)
        {
            // The prompt, then outputs 0 .. steps-2 as inputs: outputs at steps P-1 .. P+steps-2 are the generated ones.
            var history = Concat(Row(prompt, b, 4), Row(result.Output, b, steps - 1));
            var h0b = new Tensor([.. h0.Data.AsSpan(b * 6, 6), .. h0.Data.AsSpan(12 + b * 6, 6)], 2, 1, 6);
            var full = model.Forward(history, h0b);
            var expected = full.Output.Data.AsSpan(3 * 3, steps * 3).ToArray();
            Numerics.AssertClose(expected, Row(result.Output, b, steps).Data, 1e-4, 1e-5, $"outputs of sequence {b}");
            var state = new[] { result.FinalState.Data.AsSpan(b * 6, 6).ToArray(), result.FinalState.Data.AsSpan(12 + b * 6, 6).ToArray() };
            Numerics.AssertClose([.. full.FinalState.Data], [.. state[0], .. state[1]], 1e-4, 1e-5, $"final state of sequence {b}");
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Prompts_of_different_lengths_generate_as_each_would_alone(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(new RnnConfig(4, 5, 1, Activation.Tanh, 4), acc, seed: 7);
        var prompt = new Tensor(Numerics.Random(new Random(3), 3 * 5 * 4), 3, 5, 4);
        int[] lengths = [2, 5, 1];
        var together = new Generator(model).Generate(prompt, 4, feedback: Feedback.ArgmaxOneHot, promptLengths: lengths);
        for (int b = 0; b < 3; b++)
        {
            var alone = new Generator(model).Generate(Row(prompt, b, lengths[b]), 4, feedback: Feedback.ArgmaxOneHot);
            Numerics.AssertClose(alone.Output.Data, Row(together.Output, b, 4).Data, 1e-5, 1e-6, $"sequence {b}");
            Assert.Equal(alone.FedBack.Data, Row(together.FedBack, b, 4).Data);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Argmax_feedback_feeds_the_one_hot_code_of_the_largest_output(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(new RnnConfig(5, 8, 1, Activation.Relu, 5), acc, seed: 1);
        var start = new Tensor([1, 0, 0, 0, 0, 0, 0, 1, 0, 0], 2, 5);   // [B, I]: one start step each
        var result = new Generator(model).Generate(start, 6, feedback: Feedback.ArgmaxOneHot);
        var classes = result.FedBackClasses();
        for (int b = 0; b < 2; b++)
        for (int t = 0; t < 6; t++)
        {
            var y = result.Output.Data.AsSpan((b * 6 + t) * 5, 5);
            int best = 0;
            for (int k = 1; k < 5; k++) if (y[k] > y[best]) best = k;
            Assert.Equal(best, classes[b, t]);
            var fed = result.FedBack.Data.AsSpan((b * 6 + t) * 5, 5).ToArray();
            Assert.Equal(Enumerable.Range(0, 5).Select(k => k == best ? 1f : 0f), fed);
        }
        // The second output is the model's answer to the first fed-back input.
        var first = new Tensor(result.FedBack.Data.AsSpan(0, 5).ToArray(), 1, 1, 5);
        var state = model.Forward(new Tensor(start.Data.AsSpan(0, 5).ToArray(), 1, 1, 5)).FinalState;
        Numerics.AssertClose(model.Forward(first, state).Output.Data, result.Output.Data.AsSpan(5, 5), 1e-5, 1e-6, "step 1");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_many_to_one_model_generates_from_its_final_state_at_each_step(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var model = RnnModel.Create(new RnnConfig(2, 4, 1, Activation.Tanh, 2, HeadInput: HeadInput.FinalState), acc, seed: 3);
        var prompt = new Tensor(Numerics.Random(new Random(1), 1 * 3 * 2), 1, 3, 2);
        var result = new Generator(model).Generate(prompt, 3);
        var history = Concat(prompt, Row(result.Output, 0, 2));
        // Many-to-one over the prompt plus k fed-back steps is output k.
        for (int k = 0; k < 3; k++)
            Numerics.AssertClose(model.Forward(Row(history, 0, 3 + k)).Output.Data, result.Output.Data.AsSpan(k * 2, 2), 1e-4, 1e-5, $"output {k}");
    }

    [Fact]
    public void Sampling_is_reproducible_and_follows_the_temperature()
    {
        var logits = new Tensor([0f, MathF.Log(3f), 0f, MathF.Log(3f)], 2, 2);
        var a = Feedback.SampleOneHot(1f, new Random(5));
        var b = Feedback.SampleOneHot(1f, new Random(5));
        int ones = 0;
        for (int i = 0; i < 4000; i++)
        {
            var x = a(logits);
            Assert.Equal(x.Data, b(logits).Data);
            Assert.Equal(2f, x.Data.Sum());
            ones += (int)(x.Data[1] + x.Data[3]);
        }
        Assert.InRange(ones / 8000.0, 0.72, 0.78);   // p = 3/4
        Assert.Equal([0.5f, 1f / (1f + MathF.Exp(-2f))], Feedback.Sigmoid(new Tensor([0f, 2f], 1, 2)).Data);
        Assert.Throws<ShapeException>(() => Feedback.SampleOneHot(0f, new Random()));
        foreach (var kind in Enum.GetValues<FeedbackKind>()) Assert.Equal(kind, Feedback.Parse(kind.ToName()));
        Assert.Contains("identity, argmax or sigmoid", Assert.Throws<ShapeException>(() => Feedback.Parse("softmax")).Message);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void What_cannot_generate_is_refused_with_the_reason(string backend)
    {
        using var acc = TestBackends.Open(backend);
        using var bidirectional = RnnModel.Create(new RnnConfig(2, 3, Bidirectional: true, OutputSize: 2), acc);
        Assert.Contains("bidirectional", Assert.Throws<ShapeException>(() => new Generator(bidirectional)).Message);

        using var model = RnnModel.Create(new RnnConfig(3, 4, 1, Activation.Tanh, 2), acc);
        var start = Tensor.Zeros(2, 3);
        var generator = new Generator(model);
        Assert.Contains("feedback function", Assert.Throws<ShapeException>(() => generator.Generate(start, 3)).Message);
        Assert.Contains("[2, 3]", Assert.Throws<ShapeException>(() => generator.Generate(start, 3, feedback: y => y)).Message);
        Assert.Contains("at least 1 step", Assert.Throws<ShapeException>(() => generator.Generate(start, 0, feedback: _ => Tensor.Zeros(2, 3))).Message);
        Assert.Throws<ShapeException>(() => generator.Generate(Tensor.Zeros(2, 4), 3, feedback: _ => Tensor.Zeros(2, 3)));
        var padded = generator.Generate(start, 2, feedback: _ => Tensor.Zeros(2, 3));
        Assert.Equal([2, 2, 2], padded.Output.Shape);
        Assert.Equal([1, 2, 4], padded.FinalState.Shape);
    }
}
