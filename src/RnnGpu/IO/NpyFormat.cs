namespace RnnGpu.IO;

/// <summary>Constants of the .npy container (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).</summary>
internal static class NpyFormat
{
    public static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Magic plus the two version bytes.</summary>
    public const int MagicAndVersionLength = 8;

    /// <summary>numpy pads the preamble and header to this, so the data of a memory-mapped file is aligned.</summary>
    public const int Alignment = 64;

    /// <summary>numpy refuses headers over 10 000 bytes by default; 1 MB still bounds what a corrupt length field can make us allocate.</summary>
    public const int MaxHeaderBytes = 1 << 20;
}
