using RnnGpu.Text;
using Xunit;

namespace RnnGpu.Tests.Text;

public sealed class TextCorpusTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "rnngpu-text-tests-" + Guid.NewGuid().ToString("N"));

    public TextCorpusTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    [Fact]
    public void The_built_in_corpus_is_embedded_and_plain_text()
    {
        string text = TextCorpus.LoadDefault();
        Assert.True(text.Length > 50_000, $"corpus has {text.Length} characters");
        Assert.Contains("The wind", text);
        Assert.DoesNotContain('\r', text);
        var v = CharVocabulary.FromText(text);
        Assert.InRange(v.Size, 20, 100);
    }

    [Fact]
    public void A_file_is_read_with_line_endings_normalized_and_the_bom_dropped()
    {
        string path = Path.Combine(_dir, "t.txt");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. "one\r\ntwo\rthree\n"u8]);
        Assert.Equal("one\ntwo\nthree\n", TextCorpus.LoadFile(path));
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        string path = Path.Combine(_dir, "missing.txt");
        var e = Assert.Throws<FileFormatException>(() => TextCorpus.LoadFile(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("no such file", e.Message);
    }

    [Fact]
    public void An_empty_file_is_refused()
    {
        string path = Path.Combine(_dir, "empty.txt");
        File.WriteAllText(path, "");
        var e = Assert.Throws<FileFormatException>(() => TextCorpus.LoadFile(path));
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void Invalid_utf8_and_binary_files_are_refused()
    {
        string bad = Path.Combine(_dir, "bad.txt");
        File.WriteAllBytes(bad, [0x61, 0xFF, 0xFE, 0x62]);
        Assert.Contains("UTF-8", Assert.Throws<FileFormatException>(() => TextCorpus.LoadFile(bad)).Message);
        string bin = Path.Combine(_dir, "bin.txt");
        File.WriteAllBytes(bin, [0x61, 0x00, 0x62]);
        Assert.Contains("binary", Assert.Throws<FileFormatException>(() => TextCorpus.LoadFile(bin)).Message);
    }
}
