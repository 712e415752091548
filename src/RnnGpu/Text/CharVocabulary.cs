namespace RnnGpu.Text;

/// <summary>
/// The characters of a character-level model: index i is both the one-hot position of the input
/// and the class id of the head's output. Built from a text as its distinct characters in ordinal
/// order, so the same text always gives the same vocabulary. Characters are UTF-16 code units.
/// </summary>
public sealed class CharVocabulary
{
    private readonly Dictionary<char, int> _index;

    private CharVocabulary(string characters)
    {
        Characters = characters;
        _index = new Dictionary<char, int>(characters.Length);
        for (int i = 0; i < characters.Length; i++)
            if (!_index.TryAdd(characters[i], i))
                throw new ShapeException($"vocabulary holds the character {Describe(characters[i])} twice");
    }

    /// <summary>The characters, index = one-hot position = class id (what <see cref="Model.RnnModel.Vocabulary"/> stores).</summary>
    public string Characters { get; }

    public int Size => Characters.Length;

    public char this[int index] => Characters[index];

    /// <summary>The sorted distinct characters of <paramref name="text"/>.</summary>
    public static CharVocabulary FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) throw new ShapeException("cannot build a vocabulary from an empty text");
        var chars = text.Distinct().ToArray();
        Array.Sort(chars);
        return new CharVocabulary(new string(chars));
    }

    /// <summary>A vocabulary with exactly these characters in this order (as a checkpoint stores it); each must appear once.</summary>
    public static CharVocabulary FromCharacters(string characters)
    {
        ArgumentNullException.ThrowIfNull(characters);
        if (characters.Length == 0) throw new ShapeException("the vocabulary is empty");
        return new CharVocabulary(characters);
    }

    public bool Contains(char c) => _index.ContainsKey(c);

    public bool TryIndexOf(char c, out int index) => _index.TryGetValue(c, out index);

    /// <summary>The class id of <paramref name="c"/>; a character outside the vocabulary is a <see cref="ShapeException"/> naming it.</summary>
    public int IndexOf(char c) =>
        _index.TryGetValue(c, out int i) ? i : throw new ShapeException($"the character {Describe(c)} is not in the model's vocabulary");

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new int[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            if (!_index.TryGetValue(text[i], out ids[i]))
                throw new ShapeException($"the character {Describe(text[i])} at position {i} is not in the model's vocabulary");
        }
        return ids;
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var chars = new char[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)Size) throw new ShapeException($"class id {ids[i]} is outside the vocabulary of {Size} characters");
            chars[i] = Characters[ids[i]];
        }
        return new string(chars);
    }

    /// <summary>One-hot codes [batch, time, Size] of class ids laid out [batch, time] (row-major).</summary>
    public Tensor OneHot(ReadOnlySpan<int> ids, int batch, int time)
    {
        if (batch < 1 || time < 1 || (long)batch * time != ids.Length)
            throw new ShapeException($"{ids.Length} class ids do not fill a [{batch}, {time}] batch");
        var data = new float[checked(ids.Length * Size)];
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)Size) throw new ShapeException($"class id {ids[i]} is outside the vocabulary of {Size} characters");
            data[i * Size + ids[i]] = 1f;
        }
        return new Tensor(data, batch, time, Size);
    }

    /// <summary>A character as an error message shows it: 'a', or its escape and code point when it is not printable.</summary>
    public static string Describe(char c) => c switch
    {
        '\n' => "'\\n' (U+000A)",
        '\r' => "'\\r' (U+000D)",
        '\t' => "'\\t' (U+0009)",
        _ when char.IsControl(c) || char.IsSurrogate(c) || char.IsWhiteSpace(c) && c != ' ' => $"U+{(int)c:X4}",
        _ => $"'{c}' (U+{(int)c:X4})",
    };
}
