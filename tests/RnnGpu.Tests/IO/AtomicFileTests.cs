using RnnGpu.IO;
using Xunit;

namespace RnnGpu.Tests.IO;

public sealed class AtomicFileTests
{
    [Fact]
    public void Write_CreatesTheFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("a.bin");

        AtomicFile.Write(path, s => s.Write([1, 2, 3]));

        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Write_ReplacesAnExistingFile()
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("a.bin", [9, 9, 9, 9, 9, 9]);

        AtomicFile.Write(path, s => s.Write([1, 2]));

        Assert.Equal([1, 2], File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void FailedWrite_LeavesTheOriginalIntact_AndNoTemporaryFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.safetensors");
        AtomicFile.Write(path, s => s.Write([10, 20, 30]));

        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[100_000]); // midway: part of the new content is already written
            throw new InvalidOperationException("disk on fire");
        }));

        Assert.Equal("disk on fire", e.Message);
        Assert.Equal([10, 20, 30], File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void FailedWrite_OfANewFile_LeavesNothingBehind()
    {
        using var dir = new TempDirectory();
        string path = dir.File("new.npy");

        Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write([1]);
            throw new IOException("cable cut");
        }));

        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void SafetensorsWrite_ThatFails_LeavesThePreviousFileReadable()
    {
        using var dir = new TempDirectory();
        string path = dir.File("w.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["w"] = new([1f, 2f], 2) }, null);
        byte[] before = File.ReadAllBytes(path);

        Assert.Throws<ArgumentException>(() =>
            SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["__metadata__"] = new([3f], 1) }, null));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([1f, 2f], SafetensorsFile.Read(path).Get("w", 2).Data);
        Assert.Single(Directory.GetFiles(dir.Path));
    }
}
