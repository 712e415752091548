using System.Buffers.Binary;
using System.Text;
using RnnGpu.IO;
using Xunit;

namespace RnnGpu.Tests.IO;

/// <summary>Every kind of damaged safetensors file must give a FileFormatException naming the file and the problem.</summary>
public sealed class SafetensorsBadFileTests
{
    private const string Ok = "\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]";

    /// <summary>Header JSON (followed by a 16-byte blob) and the problem it must be reported as.</summary>
    public static TheoryData<string, string> BadHeaders => new()
    {
        { "[]", "header is not a JSON object" },
        { "\"text\"", "header is not a JSON object" },
        { "{\"a\": ", "header is not valid JSON" },
        { "{\"a\": {" + Ok + "},}", "header is not valid JSON" },
        { "not json at all", "header is not valid JSON" },
        { "{\"a\": 5}", "tensor 'a': entry is not an object" },
        { "{\"a\": {\"shape\": [4], \"data_offsets\": [0, 16]}}", "tensor 'a': missing 'dtype'" },
        { "{\"a\": {\"dtype\": 32, \"shape\": [4], \"data_offsets\": [0, 16]}}", "tensor 'a': 'dtype' is not a string" },
        { "{\"a\": {\"dtype\": \"U8\", \"shape\": [16], \"data_offsets\": [0, 16]}}", "tensor 'a': unsupported dtype 'U8'" },
        { "{\"a\": {\"dtype\": \"f32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", "unsupported dtype 'f32'" },
        { "{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 16]}}", "tensor 'a': missing 'shape'" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": 4, \"data_offsets\": [0, 16]}}", "'shape' is not an array but a number" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [\"4\"], \"data_offsets\": [0, 16]}}", "shape entry \"4\" is not an integer" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 16]}}", "shape entry 2.5 is not an integer" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [1e40], \"data_offsets\": [0, 16]}}", "shape entry 1e40 is not an integer" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [-4], \"data_offsets\": [0, 16]}}", "negative dimension -4" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [3000000000], \"data_offsets\": [0, 16]}}", "dimension 3000000000 is too large" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2147483647, 2147483647], \"data_offsets\": [0, 16]}}", "shape holds more than" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [65536, 65536, 65536, 65536, 65536], \"data_offsets\": [0, 16]}}", "shape holds more than" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [4]}}", "tensor 'a': missing 'data_offsets'" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": {}}}", "'data_offsets' is not an array" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [16]}}", "is not a pair [begin, end]" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 8, 16]}}", "is not a pair [begin, end]" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [-1, 15]}}", "data offset -1 is not a non-negative integer" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, \"16\"]}}", "data offset \"16\" is not a non-negative integer" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [16, 0]}}", "data_offsets [16, 0] end before they begin" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 12]}}", "data_offsets [0, 12] span 12 bytes, shape [4] of F32 needs 16" },
        { "{\"a\": {\"dtype\": \"F64\", \"shape\": [4], \"data_offsets\": [0, 16]}}", "shape [4] of F64 needs 32" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}", "data_offsets [8, 24] run past the end of the 16-byte data blob" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 18446744073709551615]}}", "run past the end of the 16-byte data blob" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2000000000], \"data_offsets\": [0, 8000000000]}}", "run past the end of the 16-byte data blob" },
        { "{\"__metadata__\": {\"k\": 1}, \"a\": {" + Ok + "}}", "'__metadata__' value for key 'k' is not a string" },
        { "{\"__metadata__\": {\"k\": null}}", "'__metadata__' value for key 'k' is not a string but null" },
        { "{\"__metadata__\": [\"k\"]}", "'__metadata__' is not an object" },
        { "{\"a\": {" + Ok + "}, \"a\": {" + Ok + "}}", "duplicate key 'a'" },
        { "{\"a\": {" + Ok + "}, \"b\": {" + Ok + "}}", "tensors declare more bytes in total than the 16-byte data blob holds" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void BadHeader_IsAFileFormatException_NamingFileAndProblem(string json, string problem)
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("bad.safetensors", HandMadeFiles.Safetensors(json, new byte[16]));

        BadFile.AssertRejectedCheaply(path, problem, () => SafetensorsFile.Read(path));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public void FileShorterThanTheLengthPrefix(int length)
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("short.safetensors", new byte[length]);

        BadFile.AssertRejected(path, $"file is {length} bytes, too short for the 8-byte header length", () => SafetensorsFile.Read(path));
    }

    [Theory]
    [InlineData(ulong.MaxValue)]
    [InlineData(100UL * 1024 * 1024 + 1)]
    [InlineData(1UL << 40)]
    public void AbsurdHeaderLength_IsRefusedBeforeAllocating(ulong headerLength)
    {
        using var dir = new TempDirectory();
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength);
        string path = dir.WriteBytes("huge.safetensors", bytes);

        BadFile.AssertRejectedCheaply(path, "exceeds the 100 MB limit", () => SafetensorsFile.Read(path));
    }

    [Fact]
    public void HeaderLengthPastTheEndOfTheFile()
    {
        using var dir = new TempDirectory();
        byte[] bytes = HandMadeFiles.Safetensors("{}", []);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        string path = dir.WriteBytes("cut.safetensors", bytes);

        BadFile.AssertRejectedCheaply(path, "header length 1000 runs past the end of the file (10 bytes)", () => SafetensorsFile.Read(path));
    }

    [Fact]
    public void TruncatedFile_WithAValidHeader()
    {
        using var dir = new TempDirectory();
        byte[] whole = HandMadeFiles.Safetensors("{\"a\": {" + Ok + "}}", new byte[16]);
        string path = dir.WriteBytes("truncated.safetensors", whole[..^4]);

        BadFile.AssertRejected(path, "run past the end of the 12-byte data blob", () => SafetensorsFile.Read(path));
    }

    [Fact]
    public void HeaderThatIsNotUtf8()
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("latin.safetensors", HandMadeFiles.Safetensors([(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}'], []));

        BadFile.AssertRejected(path, "header is not valid UTF-8", () => SafetensorsFile.Read(path));
    }

    [Fact]
    public void DeeplyNestedHeader_IsRejectedNotAStackOverflow()
    {
        using var dir = new TempDirectory();
        string json = "{\"a\": " + new string('[', 100_000) + new string(']', 100_000) + "}";
        string path = dir.WriteBytes("deep.safetensors", HandMadeFiles.Safetensors(json, []));

        BadFile.AssertRejected(path, "header is not valid JSON", () => SafetensorsFile.Read(path));
    }

    [Fact]
    public void EnormousDimensions_FailFastWithoutAllocating()
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("enormous.safetensors", HandMadeFiles.Safetensors(
            "{\"w\": {\"dtype\": \"F64\", \"shape\": [2147483647, 2147483647], \"data_offsets\": [0, 8]}}", new byte[8]));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        BadFile.AssertRejectedCheaply(path, "tensor 'w': shape holds more than", () => SafetensorsFile.Read(path));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public void NonexistentFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("missing.safetensors");

        BadFile.AssertRejected(path, "file not found", () => SafetensorsFile.Read(path));
    }

    [Fact]
    public void FileInANonexistentDirectory()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "no-such-dir", "x.safetensors");

        BadFile.AssertRejected(path, "file not found", () => SafetensorsFile.Read(path));
    }

    [Fact]
    public void DirectoryInsteadOfAFile()
    {
        using var dir = new TempDirectory();

        var e = Assert.Throws<FileFormatException>(() => SafetensorsFile.Read(dir.Path));
        Assert.Contains(dir.Path, e.Message);
    }

    [Fact]
    public void RandomGarbage_NeverCrashes()
    {
        using var dir = new TempDirectory();
        var rng = new Random(1234);
        string path = dir.File("garbage.safetensors");
        byte[] valid = HandMadeFiles.Safetensors(Encoding.UTF8.GetBytes("{\"a\": {" + Ok + "}, \"__metadata__\": {\"k\": \"v\"}}"), new byte[16]);
        for (int trial = 0; trial < 300; trial++)
        {
            // Corrupt a few bytes of a valid file, or cut it short: either it still reads, or it is a FileFormatException.
            byte[] bytes = (byte[])valid.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            if (trial % 3 == 0) bytes = bytes[..rng.Next(bytes.Length)];
            File.WriteAllBytes(path, bytes);
            try { SafetensorsFile.Read(path); }
            catch (FileFormatException e) { Assert.Contains(path, e.Message); }
        }
    }
}
