using System.Reflection;
using System.Text;

namespace RnnGpu.Text;

/// <summary>Texts to train character models on: the built-in corpus, or a user's UTF-8 file.</summary>
public static class TextCorpus
{
    public const string DefaultResourceName = "RnnGpu.Corpus.default.txt";

    /// <summary>The built-in corpus (short stories, rhymes, weather reports and ship's logs; about 80 KB of plain ASCII).</summary>
    public static string LoadDefault()
    {
        using var stream = typeof(TextCorpus).Assembly.GetManifestResourceStream(DefaultResourceName)
            ?? throw new RnnGpuException($"the built-in corpus (resource {DefaultResourceName}) is missing from {typeof(TextCorpus).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Normalize(reader.ReadToEnd());
    }

    /// <summary>
    /// A UTF-8 (or UTF-16 with a byte-order mark) text file, line endings normalized to '\n'.
    /// A missing, unreadable or empty file is a <see cref="FileFormatException"/> naming it.
    /// </summary>
    public static string LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw new FileFormatException(path, "is a directory, not a text file");
        if (!File.Exists(path)) throw new FileFormatException(path, "no such file");
        string text;
        try
        {
            text = File.ReadAllText(path, new UTF8Encoding(false, throwOnInvalidBytes: true));
        }
        catch (DecoderFallbackException)
        {
            throw new FileFormatException(path, "is not valid UTF-8 text");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FileFormatException(path, $"cannot be read: {e.Message}");
        }
        text = Normalize(text);
        if (text.Length == 0) throw new FileFormatException(path, "the file is empty");
        if (text.Contains('\0')) throw new FileFormatException(path, "holds NUL characters: it looks like a binary file, not text");
        return text;
    }

    /// <summary>Windows and old Mac line endings become '\n'; a leading byte-order mark is dropped.</summary>
    public static string Normalize(string text)
    {
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        return text.Contains('\r') ? text.Replace("\r\n", "\n").Replace('\r', '\n') : text;
    }
}
