using RnnGpu.Model;

namespace RnnGpu.Text;

/// <summary>
/// Generates text from a character model: the prompt is fed through the model, then each next
/// character is drawn from softmax(logits / temperature) and fed back, the hidden state carried
/// from step to step. The model's inputs and head classes must both be its vocabulary.
/// </summary>
public sealed class CharSampler
{
    private readonly RnnModel _model;

    public CharSampler(RnnModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Vocabulary is not { Length: > 0 } chars)
            throw new ShapeException("the model has no vocabulary: it is not a character model (train one with `rnngpu train` or `--text`)");
        var config = model.Config;
        if (config.InputSize != chars.Length || config.OutputSize != chars.Length)
            throw new ShapeException(
                $"the model's vocabulary has {chars.Length} characters but its input size is {config.InputSize} and its output size {config.OutputSize}: both must equal the vocabulary size");
        _model = model;
        Vocabulary = CharVocabulary.FromCharacters(chars);
    }

    public CharVocabulary Vocabulary { get; }

    /// <summary>
    /// The <paramref name="length"/> characters that follow <paramref name="prompt"/> (not including it).
    /// An empty prompt starts as after a line break ('\n', or the first character of the vocabulary
    /// when it has no '\n'). A prompt character outside the vocabulary is a <see cref="ShapeException"/> naming it.
    /// </summary>
    public string Generate(string prompt, int length, float temperature, Random random)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(random);
        if (length < 0) throw new ShapeException($"sample length {length} must not be negative");
        if (!(temperature > 0) || !float.IsFinite(temperature))
            throw new ShapeException($"temperature {temperature} must be a positive finite number (lower is more conservative, e.g. 0.8)");
        int[] promptIds = prompt.Length > 0
            ? EncodePrompt(prompt)
            : [Vocabulary.TryIndexOf('\n', out int nl) ? nl : 0];
        if (length == 0) return "";

        int v = Vocabulary.Size;
        var promptInput = Vocabulary.OneHot(promptIds, 1, promptIds.Length);
        var output = _model.Forward(promptInput);
        var state = output.FinalState;
        var logits = output.Output.Data.AsSpan((promptIds.Length - 1) * v, v).ToArray();
        var probabilities = new double[v];
        var chars = new char[length];
        var oneHot = new float[v];
        for (int i = 0; i < length; i++)
        {
            int next = Draw(logits, temperature, random, probabilities);
            chars[i] = Vocabulary[next];
            if (i == length - 1) break;
            Array.Clear(oneHot);
            oneHot[next] = 1f;
            var step = _model.Forward(new Tensor(oneHot, 1, 1, v), state);
            state = step.FinalState;
            logits = step.Output.Data;
        }
        return new string(chars);
    }

    private int[] EncodePrompt(string prompt)
    {
        var ids = new int[prompt.Length];
        for (int i = 0; i < prompt.Length; i++)
            if (!Vocabulary.TryIndexOf(prompt[i], out ids[i]))
                throw new ShapeException(
                    $"the prompt's character {CharVocabulary.Describe(prompt[i])} at position {i} is not in the model's vocabulary of {Vocabulary.Size} characters");
        return ids;
    }

    /// <summary><see cref="Generate(string, int, float, Random)"/> with a generator seeded by <paramref name="seed"/> (a fresh random seed when null).</summary>
    public string Generate(string prompt, int length, float temperature = 0.8f, int? seed = null) =>
        Generate(prompt, length, temperature, seed is { } s ? new Random(s) : new Random());

    /// <summary>A class drawn from softmax(logits / temperature), computed in double with the maximum subtracted.</summary>
    internal static int Draw(ReadOnlySpan<float> logits, float temperature, Random random, double[] probabilities)
    {
        double max = double.NegativeInfinity;
        foreach (float l in logits) max = Math.Max(max, l);
        if (!double.IsFinite(max)) throw new NonFiniteException($"the model's output logits are not finite (max {max})");
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            probabilities[i] = Math.Exp((logits[i] - max) / temperature);
            sum += probabilities[i];
        }
        double u = random.NextDouble() * sum;
        for (int i = 0; i < logits.Length; i++)
        {
            u -= probabilities[i];
            if (u < 0) return i;
        }
        // Rounding left a sliver: take the last class with any mass.
        for (int i = logits.Length - 1; i >= 0; i--)
            if (probabilities[i] > 0) return i;
        return 0;
    }
}
