using System.Globalization;
using System.Text;

namespace Isaacai.Callbacks;

/// <summary>
/// Appends each epoch's record to a CSV file as the epoch ends, flushed to disk, so a killed process keeps
/// every finished epoch (Export-Csv at the end of a pipeline writes nothing until the pipeline ends).
/// The header is the record's keys; with <see cref="Append"/> an existing file must have the same header.
/// Elapsed time is written in seconds.
/// </summary>
public class CsvLoggerCB : Callback, IDisposable
{
    private FileStream? _file;
    private string[]? _columns;

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
        _columns = Append && File.Exists(Path) ? ExistingHeader() : null;
        _file = new FileStream(Path, Append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read);
    }

    public override void AfterEpoch(Trainer trainer)
    {
        if (!trainer.LastPhaseOfEpoch) return;
        var record = MonitoredValue.CurrentRecord(trainer)
            ?? throw new InvalidOperationException("CsvLoggerCB found no record of this epoch: the trainer needs a MetricsCB or TrackingCB, with a lower order.");
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

    private string[]? ExistingHeader()
    {
        using var reader = new StreamReader(Path);
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
