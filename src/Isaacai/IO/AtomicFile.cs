namespace Isaacai.IO;

/// <summary>
/// Writes a file so that a failure (an exception, a full disk, a killed process) never leaves half of it:
/// the content goes to a temporary file in the same folder, is flushed to disk, then renamed over the path,
/// which replaces an existing file whole or leaves it as it was.
/// </summary>
internal static class AtomicFile
{
    /// <remarks>
    /// The temporary file has a fixed name, <c>.name.partial</c>, so a process killed while writing leaves at
    /// most one behind, which the next write of the same file replaces; two writers of one file at once are
    /// refused (the second cannot open it) instead of racing.
    /// </remarks>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        if (Directory.Exists(full)) throw new IOException($"Cannot write {full}: it is a folder; give a file name.");
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Cannot write {full}: the folder {folder} does not exist.");
        var temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.partial");
        FileStream stream;
        try { stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None); }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new IOException($"Cannot write {full}: another write of it is under way ({temporary} is open).", e);
        }
        try
        {
            using (stream)
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
