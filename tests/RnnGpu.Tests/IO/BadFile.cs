using Xunit;

namespace RnnGpu.Tests.IO;

/// <summary>Assertions shared by the bad-file tests: the right exception type, naming the file and the problem.</summary>
internal static class BadFile
{
    public static FileFormatException AssertRejected(string path, string problem, Action read)
    {
        var e = Assert.Throws<FileFormatException>(read);
        Assert.Equal(path, e.Path);
        Assert.True(e.Message.Contains(path, StringComparison.Ordinal), $"the message does not name the file: {e.Message}");
        Assert.True(e.Message.Contains(problem, StringComparison.Ordinal), $"expected the problem \"{problem}\" in: {e.Message}");
        return e;
    }

    /// <summary>Runs <paramref name="read"/> and asserts it allocated little: bad sizes must be caught before allocating.</summary>
    public static FileFormatException AssertRejectedCheaply(string path, string problem, Action read)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        FileFormatException e = AssertRejected(path, problem, read);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16 << 20, $"rejecting the file allocated {allocated} bytes");
        return e;
    }

    public static void AssertBitsEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"element {i}: {actual[i]}, expected {expected[i]}");
    }
}
