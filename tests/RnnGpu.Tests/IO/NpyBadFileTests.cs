using System.Buffers.Binary;
using System.Text;
using RnnGpu.IO;
using Xunit;

namespace RnnGpu.Tests.IO;

/// <summary>Every kind of damaged .npy file must give a FileFormatException naming the file and the problem.</summary>
public sealed class NpyBadFileTests
{
    private static string Dict(string descr = "'<f4'", string fortran = "False", string shape = "(2, 3)")
        => $"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}";

    /// <summary>Header dict (followed by 24 data bytes, right for a (2, 3) float32) and the problem it must be reported as.</summary>
    public static TheoryData<string, string> BadHeaders => new()
    {
        { "[1, 2]", "header is not a dict: [1, 2]" },
        { "'descr'", "header is not a dict" },
        { "(2, 3)", "header is not a dict" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", "header is not a valid Python literal" },
        { "{'descr': '<f4' 'fortran_order': False}", "header is not a valid Python literal: expected '}'" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} junk", "header is not a valid Python literal: unexpected text" },
        { "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}", "header is not a valid Python literal" },
        { "{'descr': '<f4', 'fortran_order': false, 'shape': (2, 3)}", "header is not a valid Python literal: unexpected character 'f'" },
        { "", "header is not a valid Python literal: unexpected end of header" },
        { "{'descr': '<f4', 'fortran_order': False}", "header has no 'shape' key" },
        { "{'fortran_order': False, 'shape': (2, 3)}", "header has no 'descr' key" },
        { "{'descr': '<f4', 'shape': (2, 3)}", "header has no 'fortran_order' key" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", "header has unexpected key 'extra'" },
        { "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", "header repeats key 'descr'" },
        { "{1: '<f4', 'fortran_order': False, 'shape': (2, 3)}", "header key 1 is not a string" },
        { Dict(descr: "'>f4'"), "unsupported dtype '>f4'" },
        { Dict(descr: "'>i8'"), "unsupported dtype '>i8'" },
        { Dict(descr: "'|f4'"), "unsupported dtype '|f4'" },
        { Dict(descr: "'<u4'"), "unsupported dtype '<u4'" },
        { Dict(descr: "'<f2'"), "unsupported dtype '<f2'" },
        { Dict(descr: "'<c8'"), "unsupported dtype '<c8'" },
        { Dict(descr: "'|b1'"), "unsupported dtype '|b1'" },
        { Dict(descr: "'f4'"), "unsupported dtype 'f4'" },
        { Dict(descr: "[('a', '<f4')]"), "unsupported dtype '[('a', '<f4')]'" },
        { Dict(fortran: "True"), "Fortran-order arrays are not supported" },
        { Dict(fortran: "0"), "'fortran_order' is 0, not True or False" },
        { Dict(fortran: "'False'"), "'fortran_order' is 'False', not True or False" },
        { Dict(shape: "[2, 3]"), "shape [2, 3] is not a tuple of integers" },
        { Dict(shape: "6"), "shape 6 is not a tuple of integers" },
        { Dict(shape: "(6)"), "shape 6 is not a tuple of integers" },
        { Dict(shape: "('2', 3)"), "shape ('2', 3) is not a tuple of integers" },
        { Dict(shape: "(2.0, 3)"), "header is not a valid Python literal: '2.' is not an integer" },
        { Dict(shape: "(True, 3)"), "is not a tuple of integers" },
        { Dict(shape: "(-2, -3)"), "negative dimension -2 in shape (-2, -3)" },
        { Dict(shape: "(3000000000,)"), "dimension 3000000000 in shape (3000000000,) is too large" },
        { Dict(shape: "(2147483647, 2147483647)"), "shape (2147483647, 2147483647) holds more than" },
        { Dict(shape: "(99999999999999999999999,)"), "integer 99999999999999999999999 is out of range" },
        { Dict(shape: "(2, 3)", descr: "'<f8'"), "truncated data: shape (2, 3) of <f8 needs 48 bytes, the file has 24" },
        { Dict(shape: "(2, 2)"), "8 bytes of trailing data after the array" },
        { Dict(shape: "()"), "20 bytes of trailing data after the array" },
        { Dict(shape: new string('(', 10_000) + new string(')', 10_000)), "nested deeper than" },
        { Dict(descr: "'<f4\\'"), "header is not a valid Python literal" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void BadHeader_IsAFileFormatException_NamingFileAndProblem(string dict, string problem)
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("bad.npy", HandMadeFiles.Npy(dict, new byte[24]));

        BadFile.AssertRejectedCheaply(path, problem, () => NpyArray.Read(path));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0x93, (byte)'N', (byte)'U' })]
    [InlineData(new byte[] { (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Z', 1, 0, 0, 0 })]
    [InlineData(new byte[] { 0x50, 0x4B, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0 })] // a .npz (zip) is not an .npy
    public void WrongMagic(byte[] bytes)
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("magic.npy", bytes);

        BadFile.AssertRejected(path, "not an .npy file: wrong magic bytes", () => NpyArray.Read(path));
    }

    [Theory]
    [InlineData(4, 0)]
    [InlineData(1, 1)]
    [InlineData(0, 0)]
    [InlineData(255, 255)]
    public void UnsupportedVersion(byte major, byte minor)
    {
        using var dir = new TempDirectory();
        byte[] bytes = HandMadeFiles.Npy(Dict(), new byte[24]);
        bytes[6] = major;
        bytes[7] = minor;
        string path = dir.WriteBytes("version.npy", bytes);

        BadFile.AssertRejected(path, $"unsupported .npy format version {major}.{minor}", () => NpyArray.Read(path));
    }

    [Theory]
    [InlineData(7)]   // inside the version bytes
    [InlineData(9)]   // inside the header length
    [InlineData(50)]  // inside the header
    [InlineData(127)] // one byte short of the header
    public void TruncatedHeader(int length)
    {
        using var dir = new TempDirectory();
        byte[] bytes = HandMadeFiles.Npy(Dict(), new byte[24]);
        string path = dir.WriteBytes("cut.npy", bytes[..length]);

        BadFile.AssertRejectedCheaply(path, "truncated header", () => NpyArray.Read(path));
    }

    [Fact]
    public void TruncatedData()
    {
        using var dir = new TempDirectory();
        byte[] bytes = HandMadeFiles.Npy(Dict(), HandMadeFiles.Float32(1, 2, 3, 4, 5, 6));
        string path = dir.WriteBytes("cut.npy", bytes[..^1]);

        BadFile.AssertRejected(path, "truncated data: shape (2, 3) of <f4 needs 24 bytes, the file has 23", () => NpyArray.Read(path));
    }

    [Fact]
    public void AbsurdHeaderLength_IsRefusedBeforeAllocating()
    {
        using var dir = new TempDirectory();
        byte[] bytes = HandMadeFiles.Npy(Dict(), new byte[24], major: 2);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), uint.MaxValue);
        string path = dir.WriteBytes("huge.npy", bytes);

        BadFile.AssertRejectedCheaply(path, $"header length {uint.MaxValue} exceeds the 1 MB limit", () => NpyArray.Read(path));
    }

    [Fact]
    public void Version3HeaderThatIsNotUtf8()
    {
        using var dir = new TempDirectory();
        byte[] dict = Encoding.Latin1.GetBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'é': 1}");
        string path = dir.WriteBytes("latin1.npy", HandMadeFiles.Npy(dict, new byte[24], 3, pad: false));

        BadFile.AssertRejected(path, "header is not valid UTF-8", () => NpyArray.Read(path));
    }

    [Theory]
    [InlineData("(2147483647, 2147483647)", "holds more than")]
    [InlineData("(2147483647, 2147483647, 2147483647, 2147483647, 2147483647)", "holds more than")]
    [InlineData("(2147483591,)", "truncated data: shape (2147483591,) of <f8 needs 17179868728 bytes")]
    [InlineData("(1000000, 1000)", "truncated data")]
    public void EnormousDeclaredShape_FailsFastWithoutAllocating(string shape, string problem)
    {
        using var dir = new TempDirectory();
        string path = dir.WriteBytes("enormous.npy", HandMadeFiles.Npy(Dict(descr: "'<f8'", shape: shape), new byte[16]));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        BadFile.AssertRejectedCheaply(path, problem, () => NpyArray.Read(path));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public void NonexistentFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("missing.npy");

        BadFile.AssertRejected(path, "file not found", () => NpyArray.Read(path));
    }

    [Fact]
    public void RandomGarbage_NeverCrashes()
    {
        using var dir = new TempDirectory();
        var rng = new Random(4321);
        string path = dir.File("garbage.npy");
        byte[] valid = HandMadeFiles.Npy(Dict(), HandMadeFiles.Float32(1, 2, 3, 4, 5, 6));
        for (int trial = 0; trial < 300; trial++)
        {
            // Corrupt a few bytes of a valid file, or cut it short: either it still reads, or it is a FileFormatException.
            byte[] bytes = (byte[])valid.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--) bytes[rng.Next(Math.Min(bytes.Length, 80))] = (byte)rng.Next(256);
            if (trial % 3 == 0) bytes = bytes[..rng.Next(bytes.Length)];
            File.WriteAllBytes(path, bytes);
            try { NpyArray.Read(path); }
            catch (FileFormatException e) { Assert.Contains(path, e.Message); }
        }
    }
}
