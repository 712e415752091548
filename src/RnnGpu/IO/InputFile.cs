namespace RnnGpu.IO;

/// <summary>Opens files for the readers so that every way of failing to open one becomes a <see cref="FileFormatException"/>.</summary>
internal static class InputFile
{
    public static FileStream Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            // bufferSize 1 = unbuffered: the readers fetch large chunks themselves, so a second copy only costs time.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileFormatException(path, "file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FileFormatException(path, $"cannot open the file: {e.Message}");
        }
    }
}
