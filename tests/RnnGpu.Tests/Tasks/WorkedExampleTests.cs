using System.Diagnostics;
using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Tasks;
using RnnGpu.Tests.Support;
using RnnGpu.Text;
using RnnGpu.Training;

namespace RnnGpu.Tests.Tasks;

/// <summary>
/// The worked examples of docs/examples.md: each trains from fixed seeds to a stated accuracy on a held-out
/// set, on every back end. Each prints what it measured (see it with
/// <c>dotnet test tests/RnnGpu.Tests -c Release --filter "FullyQualifiedName~WorkedExampleTests" --logger "console;verbosity=detailed"</c>).
/// </summary>
public sealed class WorkedExampleTests(ITestOutputHelper output)
{
    public static TheoryData<string> Backends => TestBackends.Names;

    /// <summary>The learning rate of step i of n: full for the first half, 0.3 of it to 3/4, then 0.1.</summary>
    private static float Schedule(float rate, int i, int n) => rate * (i < n / 2 ? 1f : i < n * 3 / 4 ? 0.3f : 0.1f);

    private void Report(string backend, string what, Stopwatch clock) =>
        output.WriteLine($"[{backend}] {what} (trained in {clock.Elapsed.TotalSeconds:F1} s)");

    /// <summary>
    /// ILGPU's CPU accelerator runs each simulated GPU thread as an OS thread, and a full training takes it minutes per
    /// example. There each example trains <see cref="TrackedSteps"/> steps on it and on the CPU back end from the same
    /// seeds and data, and its losses must track the CPU's step by step: the same training, on the GPU kernels.
    /// </summary>
    private const int TrackedSteps = 12;

    private static bool TracksTheCpu(string backend) => backend == "ilgpu-cpu";

    private void AssertTracksTheCpu(string backend, string example, Func<Accelerator, int, double[]> train)
    {
        double[] expected, actual;
        using (var cpu = TestBackends.Open("cpu")) expected = train(cpu, TrackedSteps);
        using (var acc = TestBackends.Open(backend)) actual = train(acc, TrackedSteps);
        output.WriteLine($"[{backend}] {example}: losses {string.Join(", ", actual.Select(l => l.ToString("F5")))}; cpu {string.Join(", ", expected.Select(l => l.ToString("F5")))}");
        Assert.True(expected[^1] < expected[0], $"{example}: the cpu's loss should fall over {TrackedSteps} steps");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-3 * Math.Abs(expected[i]) + 1e-5,
                $"{example}, step {i}: loss {actual[i]} on {backend}, {expected[i]} on the cpu");
    }

    /// <summary>Many-to-one: is "bravo" in the stream? The head reads each stream's final state, at its own length.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void Many_to_one_detects_a_word_in_streams_of_letters(string backend)
    {
        if (TracksTheCpu(backend))
        {
            AssertTracksTheCpu(backend, "word detection", (acc, steps) => TrainWordDetector(acc, steps, null));
            return;
        }
        using var acc = TestBackends.Open(backend);
        var clock = Stopwatch.StartNew();
        TrainWordDetector(acc, 600, model =>
        {
            clock.Stop();
            var test = ExampleData.WordStreams(new Random(1000), 1000);
            var logits = model.Forward(test.Streams, lengths: test.Lengths).Output;   // [1000, 2]
            int correct = 0;
            for (int b = 0; b < 1000; b++)
                correct += (logits.Data[2 * b + 1] > logits.Data[2 * b] ? 1 : 0) == (int)test.Labels.Data[b] ? 1 : 0;
            double accuracy = correct / 1000.0;
            Report(backend, $"word detection: held-out accuracy {accuracy:P1} on 1000 streams of 10-24 letters (asserted >= 97%)", clock);
            Assert.True(accuracy >= 0.97, $"accuracy {accuracy:P1}");
        });
    }

    private static double[] TrainWordDetector(Accelerator acc, int steps, Action<RnnModel>? score)
    {
        var config = new RnnConfig(InputSize: 26, HiddenSize: 48, NumLayers: 1, Activation.Tanh, OutputSize: 2, HeadInput: HeadInput.FinalState);
        using var model = RnnModel.Create(config, acc, seed: 1);
        using var adam = new Adam(0.005f);
        var trainer = new Trainer(model, adam, LossKind.CrossEntropy, clipNorm: 1f);
        var rng = new Random(1);
        var losses = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            adam.LearningRate = Schedule(0.005f, i, 600);
            var (streams, labels, lengths) = ExampleData.WordStreams(rng, 128);
            losses[i] = trainer.Step(streams, labels, lengths: lengths).Loss;
        }
        score?.Invoke(model);
        return losses;
    }

    /// <summary>Many-to-many: forecast the next value of a noisy sum of sines at every step.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void Many_to_many_forecasts_a_noisy_sum_of_sines(string backend)
    {
        if (TracksTheCpu(backend))
        {
            AssertTracksTheCpu(backend, "sines", (acc, steps) => TrainSines(acc, steps, null));
            return;
        }
        using var acc = TestBackends.Open(backend);
        var clock = Stopwatch.StartNew();
        TrainSines(acc, 300, model =>
        {
            clock.Stop();
            // Scored after a warm-up of 10 steps, in which the model reads the phases.
            const int time = 50, warmUp = 10;
            var test = ExampleData.NoisySines(new Random(1000), 500);
            var forecast = model.Forward(test.Inputs).Output;
            double mse = 0, lastValue = 0;
            int count = 0;
            for (int k = 0; k < forecast.Length; k++)
            {
                if (k % time < warmUp) continue;
                mse += Math.Pow(forecast.Data[k] - test.Targets.Data[k], 2);
                lastValue += Math.Pow(test.Inputs.Data[k] - test.Targets.Data[k], 2);
                count++;
            }
            mse /= count;
            lastValue /= count;
            double ratio = mse / lastValue;
            Report(backend, $"sines: held-out MSE {mse:F5}, last-value baseline {lastValue:F5}, ratio {ratio:F3} (asserted <= 0.15; the noise alone is 0.00250)", clock);
            Assert.True(ratio <= 0.15, $"MSE {mse} against the baseline's {lastValue}: ratio {ratio}");
        });
    }

    /// <summary>Trains the sines forecaster for <paramref name="steps"/> steps, hands it to <paramref name="score"/>, returns the losses.</summary>
    private static double[] TrainSines(Accelerator acc, int steps, Action<RnnModel>? score)
    {
        using var model = RnnModel.Create(new RnnConfig(InputSize: 1, HiddenSize: 32, NumLayers: 1, Activation.Tanh, OutputSize: 1), acc, seed: 1);
        using var adam = new Adam(0.02f);
        var trainer = new Trainer(model, adam, LossKind.Mse, clipNorm: 1f);
        var rng = new Random(1);
        var losses = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            adam.LearningRate = Schedule(0.02f, i, 300);
            var (x, y) = ExampleData.NoisySines(rng, 64);
            losses[i] = trainer.Step(x, y).Loss;
        }
        score?.Invoke(model);
        return losses;
    }

    /// <summary>One-to-many: a character model of a toy grammar generates sentences by feeding back each sampled character.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void One_to_many_generates_sentences_of_valid_words(string backend)
    {
        if (TracksTheCpu(backend))
        {
            AssertTracksTheCpu(backend, "characters", (acc, steps) => TrainCharacterModel(acc, steps, null));
            return;
        }
        using var acc = TestBackends.Open(backend);
        var clock = Stopwatch.StartNew();
        TrainCharacterModel(acc, 400, (model, vocabulary) =>
        {
            clock.Stop();
            // Per-character loss on held-out sentences, in nats (the grammar's own entropy is 0.372).
            string heldOut = ExampleData.Sentences(new Random(2), 40);
            var all = new CharBatcher(vocabulary, heldOut, 1, heldOut.Length - 1).Batch([0]);
            double loss = model.ComputeGradients(all.Input, all.Target, LossKind.CrossEntropy).Loss;

            // 1200 characters after a line break, each drawn at temperature 0.5 and fed back one-hot.
            string Generate()
            {
                var start = vocabulary.OneHot([vocabulary.IndexOf('\n')], 1, 1);
                var generated = new Generator(model).Generate(start, 1200, feedback: Feedback.SampleOneHot(0.5f, new Random(7)));
                var ids = generated.FedBackClasses();
                return vocabulary.Decode(Enumerable.Range(0, 1200).Select(t => ids[0, t]).ToArray());
            }
            string sample = Generate();
            Assert.Equal(sample, Generate());   // deterministic under the seed
            Assert.Equal(sample, new CharSampler(model).Generate("", 1200, 0.5f, seed: 7));   // what `rnngpu sample` draws

            var known = ExampleData.Vocabulary.ToHashSet();
            var words = sample.Split([' ', '.', '\n'], StringSplitOptions.RemoveEmptyEntries);
            double validWords = words.Count(known.Contains) / (double)words.Length;
            var lines = sample.Split('\n')[..^1];   // complete lines only
            double sentences = lines.Count(ExampleData.IsSentence) / (double)lines.Length;
            Report(backend, $"characters: held-out loss {loss:F3} nats/char, {validWords:P1} valid words, {sentences:P1} grammatical lines of {lines.Length} " +
                "(asserted: loss <= 0.5, words >= 95%, lines >= 90%)", clock);
            output.WriteLine(sample[..Math.Min(160, sample.Length)]);
            Assert.True(loss <= 0.5, $"held-out loss {loss}");
            Assert.True(validWords >= 0.95, $"valid words {validWords:P1}\n{sample}");
            Assert.True(sentences >= 0.9, $"grammatical lines {sentences:P1}\n{sample}");
        });
    }

    private static double[] TrainCharacterModel(Accelerator acc, int steps, Action<RnnModel, CharVocabulary>? score)
    {
        string text = ExampleData.Sentences(new Random(1), 400);
        var vocabulary = CharVocabulary.FromText(text);
        int v = vocabulary.Size;
        using var model = RnnModel.Create(new RnnConfig(v, 64, 1, Activation.Tanh, v), acc, seed: 1);
        model.Vocabulary = vocabulary.Characters;   // saved with a checkpoint, for `rnngpu sample`
        using var adam = new Adam(0.01f);
        var trainer = new Trainer(model, adam, LossKind.CrossEntropy, clipNorm: 5f);
        var batches = new CharBatcher(vocabulary, text, batchSize: 32, sequenceLength: 32, seed: 1);
        var losses = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            var batch = batches.Next();
            losses[i] = trainer.Step(batch.Input, batch.Target).Loss;
        }
        score?.Invoke(model, vocabulary);
        return losses;
    }

    /// <summary>Encoder-decoder: reverse 3 to 8 digits; the decoder generates greedily, each argmax fed back.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void Encoder_decoder_reverses_digit_sequences(string backend)
    {
        if (TracksTheCpu(backend))
        {
            AssertTracksTheCpu(backend, "reversal", (acc, steps) => TrainReverser(acc, steps, null));
            return;
        }
        using var acc = TestBackends.Open(backend);
        var clock = Stopwatch.StartNew();
        TrainReverser(acc, 800, model =>
        {
            clock.Stop();
            var test = ExampleData.DigitsToReverse(new Random(1000), 1000);
            var decoded = model.Generate(test.Digits, steps: 8, test.Lengths).FedBackClasses();
            int exact = 0;
            for (int b = 0; b < 1000; b++)
                exact += Enumerable.Range(0, test.Lengths[b]).All(t => decoded[b, t] == (int)test.Reversed.Data[b * 8 + t]) ? 1 : 0;
            double accuracy = exact / 1000.0;
            Report(backend, $"reversal: held-out exact-match accuracy {accuracy:P1} on 1000 sequences of 3-8 digits (asserted >= 95%)", clock);
            Assert.True(accuracy >= 0.95, $"exact match {accuracy:P1}");
        });
    }

    private static double[] TrainReverser(Accelerator acc, int steps, Action<Seq2SeqModel>? score)
    {
        using var model = Seq2SeqModel.Create(
            encoder: new RnnConfig(InputSize: 10, HiddenSize: 64),
            decoder: new RnnConfig(InputSize: 10, HiddenSize: 64, NumLayers: 1, Activation.Tanh, OutputSize: 10),
            acc, seed: 1, FeedbackKind.ArgmaxOneHot);
        using var encoderAdam = new Adam(0.005f);
        using var decoderAdam = new Adam(0.005f);
        var trainer = new Seq2SeqTrainer(model, encoderAdam, decoderAdam, LossKind.CrossEntropy, clipNorm: 1f);
        var rng = new Random(1);
        var losses = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            encoderAdam.LearningRate = decoderAdam.LearningRate = Schedule(0.005f, i, 800);
            var (digits, reversed, lengths) = ExampleData.DigitsToReverse(rng, 64);
            losses[i] = trainer.Step(digits, reversed, lengths: lengths, targetLengths: lengths).Loss;   // teacher forcing
        }
        score?.Invoke(model);
        return losses;
    }
}
