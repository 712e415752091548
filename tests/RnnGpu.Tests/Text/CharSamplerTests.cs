using RnnGpu.Accelerators;
using RnnGpu.Accelerators.Cpu;
using RnnGpu.Model;
using RnnGpu.Text;
using RnnGpu.Training;
using Xunit;

namespace RnnGpu.Tests.Text;

public sealed class CharSamplerTests : IDisposable
{
    private readonly Accelerator _cpu = new CpuAccelerator();

    public void Dispose() => _cpu.Dispose();

    private RnnModel CharModel(string characters, int hidden = 8, int seed = 1)
    {
        var model = RnnModel.Create(new RnnConfig(characters.Length, hidden, 1, Activation.Tanh, characters.Length), _cpu, seed);
        model.Vocabulary = characters;
        return model;
    }

    [Fact]
    public void Generates_the_requested_number_of_vocabulary_characters_repeatably()
    {
        using var model = CharModel("\n abc");
        var sampler = new CharSampler(model);
        string a = sampler.Generate("ab", 50, 1f, seed: 5);
        string b = sampler.Generate("ab", 50, 1f, seed: 5);
        Assert.Equal(50, a.Length);
        Assert.Equal(a, b);
        Assert.All(a, c => Assert.Contains(c, "\n abc"));
        Assert.NotEqual(a, sampler.Generate("ab", 50, 1f, seed: 6));
        Assert.Equal("", sampler.Generate("", 0, 1f, seed: 1));
    }

    [Fact]
    public void A_low_temperature_follows_the_largest_logit_with_the_state_carried()
    {
        using var model = CharModel("abcd", hidden: 6, seed: 3);
        var sampler = new CharSampler(model);
        string sampled = sampler.Generate("ab", 12, 1e-4f, seed: 0);

        // Greedy decoding by hand: the whole history fed through the model each time.
        var v = sampler.Vocabulary;
        string history = "ab", greedy = "";
        for (int i = 0; i < 12; i++)
        {
            var ids = v.Encode(history);
            var y = model.Forward(v.OneHot(ids, 1, ids.Length)).Output;
            var last = y.Data.AsSpan((ids.Length - 1) * v.Size, v.Size);
            int best = 0;
            for (int k = 1; k < v.Size; k++) if (last[k] > last[best]) best = k;
            greedy += v[best];
            history += v[best];
        }
        Assert.Equal(greedy, sampled);
    }

    [Fact]
    public void Draws_follow_the_softmax_of_the_scaled_logits()
    {
        var random = new Random(42);
        var p = new double[2];
        float[] logits = [0f, MathF.Log(3f)];
        int ones = 0, n = 20_000;
        for (int i = 0; i < n; i++) ones += CharSampler.Draw(logits, 1f, random, p);
        Assert.InRange(ones / (double)n, 0.73, 0.77);
        // Temperature 2 flattens 1:3 to 1:sqrt(3).
        ones = 0;
        for (int i = 0; i < n; i++) ones += CharSampler.Draw(logits, 2f, random, p);
        double expected = Math.Sqrt(3) / (1 + Math.Sqrt(3));
        Assert.InRange(ones / (double)n, expected - 0.02, expected + 0.02);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Temperature_must_be_positive(float temperature)
    {
        using var model = CharModel("ab");
        var e = Assert.Throws<ShapeException>(() => new CharSampler(model).Generate("a", 5, temperature, seed: 0));
        Assert.Contains("temperature", e.Message);
    }

    [Fact]
    public void An_unknown_prompt_character_is_named()
    {
        using var model = CharModel("ab");
        var e = Assert.Throws<ShapeException>(() => new CharSampler(model).Generate("abX", 5, 1f, seed: 0));
        Assert.Contains("'X'", e.Message);
        Assert.Contains("prompt", e.Message);
    }

    [Fact]
    public void A_model_without_a_matching_vocabulary_is_refused()
    {
        using var plain = RnnModel.Create(new RnnConfig(3, 4, 1, Activation.Tanh, 3), _cpu);
        Assert.Contains("no vocabulary", Assert.Throws<ShapeException>(() => new CharSampler(plain)).Message);
        plain.Vocabulary = "abcd";
        Assert.Contains("vocabulary has 4", Assert.Throws<ShapeException>(() => new CharSampler(plain)).Message);
        using var noHead = RnnModel.Create(new RnnConfig(3, 4), _cpu);
        noHead.Vocabulary = "abc";
        Assert.Throws<ShapeException>(() => new CharSampler(noHead));
    }

    [Fact]
    public void A_model_trained_on_windows_learns_to_continue_a_pattern()
    {
        const string text = "abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc";
        var v = CharVocabulary.FromText(text);
        using var model = CharModel(v.Characters, hidden: 12, seed: 2);
        using var adam = new Adam(0.05f);
        var trainer = new Trainer(model, adam, LossKind.CrossEntropy, clipNorm: 5f);
        var batcher = new CharBatcher(v, text, 8, 6, seed: 3);
        double loss = 0;
        for (int i = 0; i < 150; i++)
        {
            var batch = batcher.Next();
            loss = trainer.Step(batch.Input, batch.Target).Loss;
        }
        Assert.True(loss < 0.1, $"loss {loss}");
        Assert.Equal("cabcabcab", new CharSampler(model).Generate("ab", 9, 0.5f, seed: 1));
    }
}
