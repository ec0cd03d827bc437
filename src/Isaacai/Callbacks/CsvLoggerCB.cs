using System.Globalization;
using System.Text;
using Isaacai.Checkpoints;
using Microsoft.Extensions.Logging;

namespace Isaacai.Callbacks;

/// <summary>
/// Appends each epoch's record to a CSV file as the epoch ends, flushed to disk, so a killed process keeps
/// every finished epoch (Export-Csv at the end of a pipeline writes nothing until the pipeline ends).
/// The header is the record's keys; with <see cref="Append"/> an existing file must have the same header.
/// Elapsed time is written in seconds. A checkpoint remembers how long the file was; a fit resumed from it
/// goes on in the same file (Append or not), cut back to that length, so re-run epochs are not logged
/// twice and the epochs before the checkpoint are kept. The file is opened at the first row. A row is
/// written whole or not at all: a write that fails (a full disk) is cut back off, and a row left cut off by
/// an earlier failure (fewer fields than the header, no line end) is taken away, with a warning, before more
/// rows are appended.
/// </summary>
public class CsvLoggerCB : Callback, ICheckpointable, IDisposable
{
    private FileStream? _file;
    private string[]? _columns;
    private long? _resumeAt; // the file's length in the checkpoint a fit resumes from

    public CsvLoggerCB(string path, bool append = false)
    {
        Path = string.IsNullOrWhiteSpace(path) ? throw new ArgumentException("Give the CSV file's path.", nameof(path)) : System.IO.Path.GetFullPath(path);
        Append = append;
        Order = 10; // after MetricsCB has made the epoch's record
    }

    public string Path { get; }
    public bool Append { get; }

    public override void BeforeFit(Trainer trainer)
    {
        if (!trainer.Callbacks.Any(c => c is MetricsCB or TrackingCB))
            throw new InvalidOperationException("CsvLoggerCB writes the epoch records of a MetricsCB or TrackingCB, and this trainer has neither; add one (New-IsaacCallback Metrics).");
        var folder = System.IO.Path.GetDirectoryName(Path)!;
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"CsvLoggerCB cannot write {Path}: the folder {folder} does not exist.");
        (_columns, _resumeAt) = (null, null);
    }

    /// <summary>Opens the file for this fit's rows: cut back to a resumed checkpoint's length, appended to, or new.</summary>
    private FileStream Open(Trainer trainer)
    {
        bool goOn = (Append || _resumeAt is not null) && File.Exists(Path);
        // Unbuffered: a row goes to the file in one write, so a failed write leaves nothing behind in a buffer
        // that closing the file would try to write again.
        var file = new FileStream(Path, goOn ? FileMode.Open : FileMode.Create, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        if (_resumeAt is { } length && file.Length > length) file.SetLength(length);
        _columns = file.Length > 0 ? HeaderOf(file) : null; // read after the cut: a file cut to nothing gets its header again
        if (file.Length > 0 && !EndsWithNewline(file)) MendLastLine(file, trainer);
        file.Seek(0, SeekOrigin.End);
        return file;
    }

    /// <summary>
    /// A last line without its line end: a row cut off by a failed write (fewer fields than the header) is
    /// taken away, so that appended rows do not leave it in the middle of the file; a whole row someone left
    /// open gets its end.
    /// </summary>
    private void MendLastLine(FileStream file, Trainer trainer)
    {
        file.Seek(0, SeekOrigin.Begin);
        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        int start = Array.LastIndexOf(bytes, (byte)'\n') + 1;
        var last = Encoding.UTF8.GetString(bytes, start, bytes.Length - start);
        if (start > 0 && _columns is not null && last.Split(',').Length < _columns.Length)
        {
            file.SetLength(start);
            trainer.Logger.LogWarning("{Path} ended in a row cut off by a failed write ('{Row}', {Fields} of {Columns} fields); it was taken away before appending.",
                Path, last, last.Split(',').Length, _columns.Length);
        }
        else
        {
            file.Seek(0, SeekOrigin.End);
            file.Write("\n"u8);
        }
    }

    public override void AfterEpoch(Trainer trainer)
    {
        if (!trainer.LastPhaseOfEpoch) return;
        var record = MonitoredValue.CurrentRecord(trainer)
            ?? throw new InvalidOperationException("CsvLoggerCB found no record of this epoch: the trainer needs a MetricsCB or TrackingCB, with a lower order.");
        _file ??= Open(trainer);
        var keys = record.Keys.ToArray();
        var text = new StringBuilder();
        if (_columns is null)
        {
            _columns = keys;
            text.AppendLine(string.Join(',', keys.Select(Quote)));
        }
        else if (!_columns.SequenceEqual(keys))
            throw new InvalidOperationException($"{Path} has the columns {string.Join(", ", _columns)}, but this fit's records have {string.Join(", ", keys)}; write to a new file, or leave out Append.");
        text.AppendLine(string.Join(',', record.Values.Select(Format)));
        long whole = _file.Length;
        try
        {
            _file.Write(Encoding.UTF8.GetBytes(text.ToString()));
            _file.Flush(flushToDisk: true);
        }
        catch (IOException e)
        {
            // A full disk can take the first bytes of a row and refuse the rest: cut back to the whole rows.
            try { _file.SetLength(whole); }
            catch (IOException) { } // then the next append mends the cut row (MendLastLine)
            Close();
            throw new IOException($"CsvLoggerCB could not write epoch {trainer.Epoch}'s row to {Path}: {e.Message} The file keeps the rows before it, whole.", e);
        }
    }

    public override void CleanupFit(Trainer trainer) => Close();

    public void Dispose()
    {
        Close();
        GC.SuppressFinalize(this);
    }

    private void Close()
    {
        _file?.Dispose();
        _file = null;
    }

    /// <summary>The file's length: rows written by then belong to the checkpoint's epochs.</summary>
    public void SaveState(CallbackState state)
    {
        _file?.Flush(flushToDisk: true);
        state.Values["bytes"] = _file?.Length ?? (File.Exists(Path) ? new FileInfo(Path).Length : 0);
    }

    /// <summary>In a resumed fit, rows past the checkpoint's are those the fit will write again: they go.</summary>
    public void RestoreState(CallbackState state) => _resumeAt = (long)state.Value("bytes");

    private static bool EndsWithNewline(FileStream file)
    {
        file.Seek(-1, SeekOrigin.End);
        bool newline = file.ReadByte() == '\n';
        file.Seek(0, SeekOrigin.End);
        return newline;
    }

    private static string[]? HeaderOf(FileStream file)
    {
        file.Seek(0, SeekOrigin.Begin);
        using var reader = new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 4096, leaveOpen: true);
        var header = reader.ReadLine();
        return string.IsNullOrEmpty(header) ? null : header.Split(',').Select(c => c.Trim('"')).ToArray();
    }

    private static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        TimeSpan t => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture),
        _ => Quote(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""),
    };

    private static string Quote(string text) => text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : $"\"{text.Replace("\"", "\"\"")}\"";
}
