using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Isaacai.Callbacks;

namespace Isaacai.Sweeps;

/// <summary>What makes two sweeps the same one: a journal written by one resumes only the same.</summary>
public sealed record SweepDefinition(string Space, SweepStrategy Strategy, int Seed, int Trials, int Epochs, string Monitor, MonitorMode Mode, string Pruner);

/// <summary>
/// A sweep's journal, JSON lines: the sweep's definition, then one line per trial as it ends. Each line goes
/// out in one write and is flushed to disk before the next trial is reported, so a killed coordinator leaves at
/// most a torn last line, which opening drops. The file stays open and locked (on Linux, an
/// exclusive flock), so two sweeps cannot write one journal.
/// </summary>
public sealed class SweepJournal : IDisposable
{
    private static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly FileStream _file;

    private SweepJournal(FileStream file, string path, IReadOnlyList<TrialResult> ended) => (_file, Path, Ended) = (file, path, ended);

    public string Path { get; }

    /// <summary>The trials an earlier run of this sweep recorded, by number, with the parameters of <c>plan</c>.</summary>
    public IReadOnlyList<TrialResult> Ended { get; }

    /// <summary>
    /// Opens <paramref name="path"/> for <paramref name="definition"/>: a new journal starts with the definition; an
    /// existing one must hold the same definition, and its trials come back in <see cref="Ended"/>.
    /// </summary>
    public static SweepJournal Open(string path, SweepDefinition definition, IReadOnlyList<TrialSpec> plan)
    {
        FileStream file;
        try { file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException e) when (File.Exists(path))
        {
            throw new IOException($"The journal {path} is open in another sweep (or could not be opened: {e.Message}).", e);
        }
        try
        {
            var ended = ReadAndTrim(file, path, definition, plan);
            if (file.Length == 0) WriteLine(file, JsonSerializer.Serialize(new JournalHeader(definition), Json));
            return new SweepJournal(file, path, ended);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The definition at the head of the journal at <paramref name="path"/>, or null when there is no such file or it is empty.</summary>
    public static SweepDefinition? ReadDefinition(string path)
    {
        if (!File.Exists(path)) return null;
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var first = reader.ReadLine();
        if (string.IsNullOrWhiteSpace(first) || reader.EndOfStream && !first.EndsWith('}')) return null;
        return Parse<JournalHeader>(first, path, 1).Sweep ?? throw Damaged(path, 1, "its first line is not a sweep's definition");
    }

    /// <summary>Records <paramref name="trial"/>: one line, on disk when this returns.</summary>
    public void Append(TrialResult trial) => WriteLine(_file, JsonSerializer.Serialize(JournalTrial.From(trial), Json));

    public void Dispose() => _file.Dispose();

    private static void WriteLine(FileStream file, string json)
    {
        file.Seek(0, SeekOrigin.End);
        file.Write(Encoding.UTF8.GetBytes(json + "\n"));
        file.Flush(flushToDisk: true);
    }

    private static List<TrialResult> ReadAndTrim(FileStream file, string path, SweepDefinition definition, IReadOnlyList<TrialSpec> plan)
    {
        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        int whole = Array.LastIndexOf(bytes, (byte)'\n') + 1; // a line without its newline was cut short by a kill
        if (whole < bytes.Length) file.SetLength(whole);
        var lines = Encoding.UTF8.GetString(bytes, 0, whole).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var ended = new List<TrialResult>();
        if (lines.Length == 0) return ended;
        var header = Parse<JournalHeader>(lines[0], path, 1).Sweep ?? throw Damaged(path, 1, "its first line is not a sweep's definition");
        if (header != definition)
            throw new InvalidOperationException($"The journal {path} was written by another sweep: {Differences(header, definition)}. Use a new journal, or run the same sweep to resume it.");
        var byNumber = plan.ToDictionary(t => t.Number);
        for (int i = 1; i < lines.Length; i++)
        {
            var line = Parse<JournalTrial>(lines[i], path, i + 1);
            if (!byNumber.TryGetValue(line.Trial, out var spec)) throw Damaged(path, i + 1, $"trial {line.Trial} is not one of this sweep's {plan.Count}");
            if (ended.Any(e => e.Number == line.Trial)) throw Damaged(path, i + 1, $"trial {line.Trial} is recorded twice");
            ended.Add(new TrialResult(spec.Number, spec.Seed, spec.Parameters, line.State, line.Values, definition.Mode, line.Error,
                TimeSpan.FromSeconds(line.DurationSeconds), line.Host));
        }
        return ended;
    }

    private static T Parse<T>(string line, string path, int number)
    {
        try { return JsonSerializer.Deserialize<T>(line, Json) ?? throw Damaged(path, number, "it is null"); }
        catch (JsonException e) { throw Damaged(path, number, e.Message); }
    }

    private static InvalidDataException Damaged(string path, int line, string why) =>
        new($"The journal {path} is damaged at line {line}: {why}. Start a new journal, or remove that line.");

    private static string Differences(SweepDefinition was, SweepDefinition now) => string.Join("; ",
        new (string Name, object A, object B)[]
        {
            ("search space", was.Space, now.Space), ("strategy", was.Strategy, now.Strategy), ("seed", was.Seed, now.Seed),
            ("trials", was.Trials, now.Trials), ("epochs", was.Epochs, now.Epochs), ("monitor", was.Monitor, now.Monitor),
            ("mode", was.Mode, now.Mode), ("pruner", was.Pruner, now.Pruner),
        }.Where(d => !Equals(d.A, d.B)).Select(d => $"{d.Name} {d.A} there, {d.B} now"));

    private sealed record JournalHeader(SweepDefinition? Sweep);

    private sealed record JournalTrial(int Trial, int Seed, IReadOnlyDictionary<string, object> Parameters, TrialState State,
        double? Value, int? BestEpoch, IReadOnlyList<double> Values, string? Error, double DurationSeconds, string Host)
    {
        public static JournalTrial From(TrialResult r) => new(r.Number, r.Seed, r.Parameters, r.State, r.Value, r.BestEpoch, r.Values, r.Error, r.Duration.TotalSeconds, r.Host);
    }
}
