using RnnGpu.Model;
using RnnGpu.Tasks;

namespace RnnGpu.Text;

/// <summary>
/// Generates text from a character model: the prompt is fed through the model, then each next
/// character is drawn from softmax(logits / temperature) and fed back, the hidden state carried
/// from step to step: a <see cref="Generator"/> with <see cref="Feedback.SampleOneHot"/>. The model's
/// inputs and head classes must both be its vocabulary.
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
        Feedback.CheckTemperature(temperature);
        int[] promptIds = prompt.Length > 0
            ? EncodePrompt(prompt)
            : [Vocabulary.TryIndexOf('\n', out int nl) ? nl : 0];
        if (length == 0) return "";

        var generated = new Generator(_model).Generate(Vocabulary.OneHot(promptIds, 1, promptIds.Length), length,
            feedback: Feedback.SampleOneHot(temperature, random)).FedBackClasses();
        var chars = new char[length];
        for (int i = 0; i < length; i++) chars[i] = Vocabulary[generated[0, i]];
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
    internal static int Draw(ReadOnlySpan<float> logits, float temperature, Random random, double[] probabilities) =>
        Feedback.Draw(logits, temperature, random, probabilities);
}
