namespace RnnGpu.IO;

/// <summary>
/// Replaces a file all at once: readers (and a crash half way through) see either the old file or the
/// complete new one, never a torn mixture. Used by every writer in this folder.
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// Calls <paramref name="write"/> on a temporary file next to <paramref name="path"/>, forces it to disk,
    /// then renames it over <paramref name="path"/>. On any failure the temporary file is deleted, the
    /// exception propagates, and the previous file (if any) is left untouched.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);

        // Same directory as the target: a rename is only atomic within one file system.
        string target = System.IO.Path.GetFullPath(path);
        string temp = target + ".tmp-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));
        try
        {
            // CreateNew: never clobber someone else's temporary file, however unlikely the name clash.
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                // Flush(true) reaches the disk, so the rename below cannot expose a file whose data is still in the page cache.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string temp)
    {
        // Best effort: the original exception is the one worth reporting.
        try { File.Delete(temp); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
