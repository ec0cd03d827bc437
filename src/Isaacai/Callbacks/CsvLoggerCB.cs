using System.Globalization;
using System.Text;
using Isaacai.Checkpoints;

namespace Isaacai.Callbacks;

/// <summary>
/// Appends each epoch's record to a CSV file as the epoch ends, flushed to disk, so a killed process keeps
/// every finished epoch (Export-Csv at the end of a pipeline writes nothing until the pipeline ends).
/// The header is the record's keys; with <see cref="Append"/> an existing file must have the same header.
/// Elapsed time is written in seconds. A checkpoint remembers how long the file was; a fit resumed from it
/// goes on in the same file (Append or not), cut back to that length, so re-run epochs are not logged
/// twice and the epochs before the checkpoint are kept. The file is opened at the first row.
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
    private FileStream Open()
    {
        bool goOn = (Append || _resumeAt is not null) && File.Exists(Path);
        var file = new FileStream(Path, goOn ? FileMode.Open : FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
        if (_resumeAt is { } length && file.Length > length) file.SetLength(length);
        _columns = file.Length > 0 ? HeaderOf(file) : null; // read after the cut: a file cut to nothing gets its header again
        file.Seek(0, SeekOrigin.End);
        if (file.Length > 0 && !EndsWithNewline(file)) file.Write("\n"u8); // a last line someone left open gets its end, not our row
        return file;
    }

    public override void AfterEpoch(Trainer trainer)
    {
        if (!trainer.LastPhaseOfEpoch) return;
        var record = MonitoredValue.CurrentRecord(trainer)
            ?? throw new InvalidOperationException("CsvLoggerCB found no record of this epoch: the trainer needs a MetricsCB or TrackingCB, with a lower order.");
        _file ??= Open();
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
        _file!.Write(Encoding.UTF8.GetBytes(text.ToString()));
        _file.Flush(flushToDisk: true);
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
