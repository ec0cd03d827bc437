using System.Text;

namespace Isaacai.Data.Tabular;

/// <summary>
/// Rows of named columns, as they arrive: strings from a CSV file, numbers, booleans or nulls from JSON or
/// .NET objects. Nothing is parsed or typed until a <see cref="TabularProcessor"/> is fitted to it.
/// </summary>
public sealed class TabularTable
{
    private readonly Dictionary<string, int> _index;

    public TabularTable(IReadOnlyList<string> columns, IReadOnlyList<object?[]> rows)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        _index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < columns.Count; i++)
            if (!_index.TryAdd(columns[i], i))
                throw new ArgumentException(columns[_index[columns[i]]] == columns[i]
                    ? $"The column '{columns[i]}' appears twice; column names must be unique."
                    : DifferOnlyInCase(columns[_index[columns[i]]], columns[i]), nameof(columns));
        for (int r = 0; r < rows.Count; r++)
            if (rows[r].Length != columns.Count)
                throw new ArgumentException($"Row {r + 1} has {rows[r].Length} values; the table has {columns.Count} columns ({string.Join(", ", columns)}).", nameof(rows));
        Columns = columns;
        Rows = rows;
    }

    public IReadOnlyList<string> Columns { get; }
    public IReadOnlyList<object?[]> Rows { get; }

    /// <summary>The position of a column, ignoring case; -1 if there is none.</summary>
    public int IndexOf(string column) => _index.GetValueOrDefault(column, -1);

    /// <summary>
    /// Rows given as name → value maps (objects from JSON, say). The columns are every name seen, in the
    /// order first seen, matched ignoring case; a row without one of them has null (a missing value) there. A
    /// record with two names that differ only in case is an error naming both.
    /// </summary>
    public static TabularTable FromRecords(IEnumerable<IReadOnlyDictionary<string, object?>> records)
    {
        var columns = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var list = records.ToList();
        var inRecord = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var record in list)
        {
            // Two records may spell a column differently (PowerShell's property names ignore case), but one record
            // with Age and age (a case-sensitive dictionary) holds two values: merging them would silently drop one.
            inRecord.Clear();
            foreach (var name in record.Keys)
            {
                if (!inRecord.TryAdd(name, name)) throw new TabularDataException(DifferOnlyInCase(inRecord[name], name), name);
                if (seen.TryAdd(name, columns.Count)) columns.Add(name);
            }
        }
        var rows = list.Select(record =>
        {
            var row = new object?[columns.Count];
            foreach (var (name, value) in record) row[seen[name]] = value;
            return row;
        }).ToList();
        return new TabularTable(columns, rows);
    }

    private static string DifferOnlyInCase(string first, string second) =>
        $"The columns '{first}' and '{second}' differ only in case; columns are matched ignoring case, so they would be one. Rename one of them.";

    /// <summary>Reads a CSV file with a header row (RFC 4180: commas, double quotes, CR LF or LF). Every value stays a string.</summary>
    public static TabularTable ReadCsv(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var records = ParseCsv(reader, path).ToList();
        if (records.Count == 0) throw new InvalidDataException($"{path}: the file is empty; a CSV file needs a header row.");
        var header = records[0].Fields;
        var rows = new List<object?[]>(records.Count - 1);
        foreach (var (line, fields) in records.Skip(1))
        {
            if (fields.Length == 1 && fields[0].Length == 0) continue; // a blank line
            if (fields.Length != header.Length)
                throw new InvalidDataException($"{path}: line {line} has {fields.Length} fields; the header has {header.Length}.");
            rows.Add(fields);
        }
        return new TabularTable(header, rows);
    }

    /// <summary>The records, each with the line it starts on (a quoted field may hold line breaks).</summary>
    private static IEnumerable<(int Line, string[] Fields)> ParseCsv(TextReader reader, string source)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, any = false;
        int c, line = 1, start = 1;
        while ((c = reader.Read()) >= 0)
        {
            any = true;
            if (quoted)
            {
                if (c == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                    else quoted = false;
                }
                else { if (c == '\n') line++; field.Append((char)c); }
                continue;
            }
            switch (c)
            {
                case '"' when field.Length == 0: quoted = true; break;
                case ',': fields.Add(field.ToString()); field.Clear(); break;
                case '\r' when reader.Peek() == '\n': break;
                case '\n':
                    fields.Add(field.ToString()); field.Clear();
                    yield return (start, fields.ToArray());
                    fields.Clear(); any = false; start = ++line;
                    break;
                default: field.Append((char)c); break;
            }
        }
        if (quoted) throw new InvalidDataException($"{source}: a quoted field opened before line {line} is never closed.");
        if (any) { fields.Add(field.ToString()); yield return (start, fields.ToArray()); }
    }
}
