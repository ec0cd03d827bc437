using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
        if (data.Length != columns.Count || data.Any(c => c is not (double[] or object?[]) || c.Length != rowCount))
            throw new ArgumentException($"Expected {columns.Count} columns of {rowCount} values, each double[] or object?[].", nameof(data));
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
    /// when every present value is a finite number; null otherwise. The caller must not change it.
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

    /// <summary>
    /// Gathers rows one at a time, as name → value pairs, with the columns of <see cref="FromRecords"/>, into a table
    /// held by column. Rows of one shape (the same names in the same order, as Import-Csv and ConvertFrom-Json give
    /// them) are matched to the columns once, not name by name.
    /// </summary>
    public sealed class Builder
    {
        private readonly List<string> _columns = [];
        private readonly Dictionary<string, int> _index = new(StringComparer.OrdinalIgnoreCase);
        private readonly List<BuilderColumn> _data = [];
        private readonly HashSet<string>? _onlyAsGiven;
        // The last row's names, where each goes, and the columns it lacks.
        private string[] _shapeNames = [];
        private int[] _shapeColumns = [];
        private int[] _shapeLacks = [];
        private int _blocks;

        /// <param name="numbersExcept">
        /// When given, every column but these is also held as numbers (NaN where missing) for as long as each of its
        /// present values is a finite float32 number, as a file reader holds one, so that a dataset reads it without
        /// parsing a cell again. These columns (a target and categories, whose names are their text) are held as
        /// given only. Null: every column as given only.
        /// </param>
        public Builder(IEnumerable<string>? numbersExcept = null) =>
            _onlyAsGiven = numbersExcept?.ToHashSet(StringComparer.OrdinalIgnoreCase);

        public int RowCount { get; private set; }

        public void Add(IEnumerable<KeyValuePair<string, object?>> record)
        {
            ArgumentNullException.ThrowIfNull(record);
            var names = new List<string>();
            var values = new List<object?>();
            foreach (var (name, value) in record)
            {
                names.Add(name);
                values.Add(value);
            }
            Add(CollectionsMarshal.AsSpan(names), CollectionsMarshal.AsSpan(values));
        }

        /// <summary>One row: <paramref name="values"/>[i] is the value of <paramref name="names"/>[i].</summary>
        // Per row or cell from a cold start: optimized at once, not tiered up partway through (the objects path 20% faster).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Add(ReadOnlySpan<string> names, ReadOnlySpan<object?> values)
        {
            if (names.Length != values.Length) throw new ArgumentException($"{names.Length} names and {values.Length} values; a row has a value for each name.", nameof(values));
            if (!names.SequenceEqual(_shapeNames)) LearnShape(names);
            if (RowCount == _blocks * BuilderColumn.BlockRows) AddBlock();
            int row = RowCount;
            for (int i = 0; i < values.Length; i++) _data[_shapeColumns[i]].Set(row, values[i]);
            foreach (var column in _shapeLacks) _data[column].SetMissing(row);
            RowCount++;
        }

        /// <summary>
        /// Where each of a row's names goes, adding the columns not seen before. Two rows may spell a column
        /// differently (PowerShell's property names ignore case), but one row with Age and age (a case-sensitive
        /// dictionary) holds two values: merging them would silently drop one.
        /// </summary>
        private void LearnShape(ReadOnlySpan<string> names)
        {
            var columns = new int[names.Length];
            for (int i = 0; i < names.Length; i++)
            {
                ArgumentNullException.ThrowIfNull(names[i], nameof(names));
                if (!_index.TryGetValue(names[i], out columns[i]))
                {
                    _index.Add(names[i], columns[i] = _columns.Count);
                    _columns.Add(names[i]);
                    _data.Add(new BuilderColumn(_blocks, RowCount, _onlyAsGiven is not null && !_onlyAsGiven.Contains(names[i])));
                }
                int earlier = Array.IndexOf(columns, columns[i], 0, i);
                if (earlier >= 0) throw new TabularDataException(DifferOnlyInCase(names[earlier], names[i]), names[i]);
            }
            _shapeLacks = Enumerable.Range(0, _columns.Count).Except(columns).ToArray();
            _shapeColumns = columns;
            _shapeNames = names.ToArray();
        }

        private void AddBlock()
        {
            _blocks++;
            foreach (var column in _data) column.AddBlock();
        }

        /// <summary>The table of the rows so far; a row that lacks a later column has null there.</summary>
        public TabularTable ToTable() => new(_columns.ToArray(), _data.Select(c => c.ToArray(RowCount)).ToArray(), RowCount);
    }

    /// <summary>
    /// One column as <see cref="Builder"/> gathers it: the values as given, and their numbers while they are all
    /// numbers, in blocks of rows, so that growing copies nothing (nor makes a large array per doubling).
    /// </summary>
    private sealed class BuilderColumn
    {
        public const int BlockRows = 4096;
        private readonly List<object?[]> _values = [];
        private List<double[]>? _numbers;

        public BuilderColumn(int blocks, int missingRows, bool holdNumbers)
        {
            if (holdNumbers) _numbers = [];
            for (int b = 0; b < blocks; b++) AddBlock();
            for (int row = 0; row < missingRows; row++) SetMissing(row);
        }

        public void AddBlock()
        {
            _values.Add(new object?[BlockRows]);
            _numbers?.Add(new double[BlockRows]);
        }

        // Per row or cell from a cold start: optimized at once, not tiered up partway through (the objects path 20% faster).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Set(int row, object? value)
        {
            _values[row / BlockRows][row % BlockRows] = value;
            if (_numbers is null) return;
            // As NumbersOf reads a cell; a number beyond float32 keeps the column as given, for its error to show the value as written.
            if (TabularValues.TryNumber(value, out var number) && Math.Abs(number) <= float.MaxValue) _numbers[row / BlockRows][row % BlockRows] = number;
            else if (TabularValues.IsMissing(value)) _numbers[row / BlockRows][row % BlockRows] = double.NaN;
            else _numbers = null;
        }

        public void SetMissing(int row)
        {
            if (_numbers is not null) _numbers[row / BlockRows][row % BlockRows] = double.NaN;
        }

        public Array ToArray(int rows) => _numbers is not null ? Join(_numbers, rows) : Join(_values, rows);

        private static T[] Join<T>(List<T[]> blocks, int rows)
        {
            var all = new T[rows];
            for (int b = 0, at = 0; at < rows; b++, at += BlockRows)
                blocks[b].AsSpan(0, Math.Min(BlockRows, rows - at)).CopyTo(all.AsSpan(at));
            return all;
        }
    }

    private static string DifferOnlyInCase(string first, string second) =>
        $"The columns '{first}' and '{second}' differ only in case; columns are matched ignoring case, so they would be one. Rename one of them.";

    /// <summary>Reads a CSV file with a header row (RFC 4180: commas, double quotes, CR LF or LF). Every value stays a string.</summary>
    public static TabularTable ReadCsv(string path) => TabularFile.Read(path, new TabularFileColumns { AllText = true });
}
