namespace Isaacai.Data.Tabular;

/// <summary>
/// Rows of named columns, as they arrive: strings from a CSV file, numbers, booleans or nulls from JSON or
/// .NET objects. Nothing is parsed or typed until a <see cref="TabularProcessor"/> is fitted to it.
/// </summary>
public sealed class TabularTable
{
    private readonly Dictionary<string, int> _index;
    private readonly IReadOnlyList<object?[]>? _rows;
    /// <summary>A table read from a file, by column: double[] (NaN where a value is missing) or object?[].</summary>
    private readonly Array[]? _columns;

    public TabularTable(IReadOnlyList<string> columns, IReadOnlyList<object?[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        _index = IndexColumns(columns);
        for (int r = 0; r < rows.Count; r++)
            if (rows[r].Length != columns.Count)
                throw new ArgumentException($"Row {r + 1} has {rows[r].Length} values; the table has {columns.Count} columns ({string.Join(", ", columns)}).", nameof(rows));
        Columns = columns;
        _rows = rows;
        RowCount = rows.Count;
    }

    /// <summary>
    /// A table held by column, as a file reader builds it: each column a double[] of numbers (NaN for a missing
    /// value), which costs no object per cell, or an object?[] of values as read (text, booleans, dates).
    /// </summary>
    internal TabularTable(IReadOnlyList<string> columns, Array[] data, int rowCount)
    {
        ArgumentNullException.ThrowIfNull(data);
        _index = IndexColumns(columns);
        // A column may be longer than the rows (a reader's arrays sized from an estimate): copying it to size would
        // hold the column twice for a moment.
        if (data.Length != columns.Count || data.Any(c => c is not (double[] or object?[]) || c.Length < rowCount))
            throw new ArgumentException($"Expected {columns.Count} columns of at least {rowCount} values, each double[] or object?[].", nameof(data));
        Columns = columns;
        _columns = data;
        RowCount = rowCount;
    }

    private static Dictionary<string, int> IndexColumns(IReadOnlyList<string> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < columns.Count; i++)
            if (!index.TryAdd(columns[i], i))
                throw new ArgumentException(columns[index[columns[i]]] == columns[i]
                    ? $"The column '{columns[i]}' appears twice; column names must be unique."
                    : DifferOnlyInCase(columns[index[columns[i]]], columns[i]), nameof(columns));
        return index;
    }

    public IReadOnlyList<string> Columns { get; }

    public int RowCount { get; }

    /// <summary>The rows, each an array of its values; a table held by column makes each row's array when it is asked for.</summary>
    public IReadOnlyList<object?[]> Rows => _rows ?? new RowsOfColumns(this);

    /// <summary>One cell: a number, text, another value, or null where it is missing.</summary>
    public object? this[int row, int column] => _rows is not null ? _rows[row][column]
        : _columns![column] is double[] numbers ? (double.IsNaN(numbers[row]) ? null : numbers[row])
        : ((object?[])_columns[column])[row];

    /// <summary>Whether a cell is missing (see <see cref="TabularValues.IsMissing"/>), without boxing a number.</summary>
    public bool IsMissing(int row, int column) =>
        _columns?[column] is double[] numbers ? double.IsNaN(numbers[row]) : TabularValues.IsMissing(this[row, column]);

    /// <summary>
    /// The column's numbers by row (NaN where missing) when the table holds it as numbers, as a file reader does
    /// when every present value is a finite number; null otherwise. It may be longer than <see cref="RowCount"/>;
    /// the caller must not change it.
    /// </summary>
    public double[]? Numbers(int column) => _columns?[column] as double[];

    private sealed class RowsOfColumns(TabularTable table) : IReadOnlyList<object?[]>
    {
        public object?[] this[int index]
        {
            get
            {
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)table.RowCount, nameof(index));
                var row = new object?[table.Columns.Count];
                for (int c = 0; c < row.Length; c++) row[c] = table[index, c];
                return row;
            }
        }

        public int Count => table.RowCount;

        public IEnumerator<object?[]> GetEnumerator()
        {
            for (int r = 0; r < table.RowCount; r++) yield return this[r];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>The position of a column, ignoring case; -1 if there is none.</summary>
    public int IndexOf(string column) => _index.GetValueOrDefault(column, -1);

    /// <summary>
    /// Rows given as name → value maps (objects from JSON, say). The columns are every name seen, in the
    /// order first seen, matched ignoring case; a row without one of them has null (a missing value) there. A
    /// record with two names that differ only in case is an error naming both.
    /// </summary>
    public static TabularTable FromRecords(IEnumerable<IReadOnlyDictionary<string, object?>> records)
    {
        var builder = new Builder();
        foreach (var record in records) builder.Add(record);
        return builder.ToTable();
    }

    /// <summary>Gathers rows one at a time, as name → value pairs, with the columns of <see cref="FromRecords"/>.</summary>
    public sealed class Builder
    {
        private readonly List<string> _columns = [];
        private readonly Dictionary<string, int> _index = new(StringComparer.OrdinalIgnoreCase);
        private readonly List<object?[]> _rows = [];
        private string?[] _namedInRow = [];

        public int RowCount => _rows.Count;

        public void Add(IEnumerable<KeyValuePair<string, object?>> record)
        {
            ArgumentNullException.ThrowIfNull(record);
            var row = new object?[_columns.Count];
            // Two records may spell a column differently (PowerShell's property names ignore case), but one record
            // with Age and age (a case-sensitive dictionary) holds two values: merging them would silently drop one.
            Array.Clear(_namedInRow);
            foreach (var (name, value) in record)
            {
                if (!_index.TryGetValue(name, out int column))
                {
                    _index.Add(name, column = _columns.Count);
                    _columns.Add(name);
                }
                if (column >= row.Length) Array.Resize(ref row, _columns.Count);
                if (column >= _namedInRow.Length) Array.Resize(ref _namedInRow, Math.Max(_columns.Count, 2 * _namedInRow.Length));
                if (_namedInRow[column] is { } earlier) throw new TabularDataException(DifferOnlyInCase(earlier, name), name);
                _namedInRow[column] = name;
                row[column] = value;
            }
            _rows.Add(row);
        }

        /// <summary>The table of the rows so far; a row that lacks a later column has null there.</summary>
        public TabularTable ToTable()
        {
            for (int r = 0; r < _rows.Count; r++)
                if (_rows[r].Length < _columns.Count)
                {
                    var row = _rows[r];
                    Array.Resize(ref row, _columns.Count);
                    _rows[r] = row;
                }
            return new TabularTable(_columns.ToArray(), _rows);
        }
    }

    private static string DifferOnlyInCase(string first, string second) =>
        $"The columns '{first}' and '{second}' differ only in case; columns are matched ignoring case, so they would be one. Rename one of them.";

    /// <summary>Reads a CSV file with a header row (RFC 4180: commas, double quotes, CR LF or LF). Every value stays a string.</summary>
    public static TabularTable ReadCsv(string path) => TabularFile.Read(path, new TabularFileColumns { AllText = true });
}
