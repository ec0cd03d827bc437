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
    /// <summary>A table read from a file, by column: <see cref="NumberColumn"/>, <see cref="TextCodes"/> or object?[].</summary>
    private readonly object[]? _columns;

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
    /// A table held by column, as a file reader builds it: each column numbers (a double[] with NaN for a missing
    /// value, or a <see cref="NumberColumn"/>), which cost no object per cell, <see cref="TextCodes"/> for text, or an
    /// object?[] of values as read (booleans, dates).
    /// </summary>
    internal TabularTable(IReadOnlyList<string> columns, object[] data, int rowCount)
    {
        ArgumentNullException.ThrowIfNull(data);
        _index = IndexColumns(columns);
        // A column may be longer than the rows (a reader's arrays sized from an estimate): copying it to size would
        // hold the column twice for a moment.
        static int Length(object column) => column switch { NumberColumn n => n.Length, object?[] v => v.Length, TextCodes t => t.Codes.Length, _ => -1 };
        data = data.Select(c => c is double[] numbers ? new NumberColumn(numbers) : c).ToArray();
        if (data.Length != columns.Count || data.Any(c => Length(c) < rowCount))
            throw new ArgumentException($"Expected {columns.Count} columns of at least {rowCount} values, each double[], NumberColumn, object?[] or TextCodes.", nameof(data));
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
    public object? this[int row, int column] => _rows is not null ? _rows[row][column] : _columns![column] switch
    {
        NumberColumn numbers => numbers[row] is var number && double.IsNaN(number) ? null : number,
        TextCodes text => text.Texts[text.Codes[row]],
        var values => ((object?[])values)[row],
    };

    /// <summary>Whether a cell is missing (see <see cref="TabularValues.IsMissing"/>), without boxing a number.</summary>
    public bool IsMissing(int row, int column) => _columns?[column] switch
    {
        NumberColumn numbers => double.IsNaN(numbers[row]),
        TextCodes text => text.IsMissing(row),
        _ => TabularValues.IsMissing(this[row, column]),
    };

    /// <summary>The column as codes into its distinct texts, when the table holds it so (text read from a file, or gathered from objects); null otherwise.</summary>
    internal TextCodes? Codes(int column) => _columns?[column] as TextCodes;

    /// <summary>
    /// The column's numbers by row (NaN where missing) when the table holds it as numbers, as a file reader does
    /// when every present value is a finite number; null otherwise. It may be longer than <see cref="RowCount"/>;
    /// the caller must not change it.
    /// </summary>
    public NumberColumn? Numbers(int column) => _columns?[column] as NumberColumn;

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
        /// parsing a cell again. These columns (a target and categories, whose names are their text) are never held as
        /// numbers. Null: no column is. Text is held as codes into each column's distinct texts (see <see cref="BuilderColumn"/>).
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
    /// One column as <see cref="Builder"/> gathers it, in blocks of rows, so that growing copies nothing (nor makes a
    /// large array per doubling): the values as given, with their numbers while they are all numbers; or, while every
    /// value is text (or missing) and the column is not numbers, as a file's text is held: each row's code into the
    /// column's distinct texts (<see cref="TextCodes"/>), so that what is worked out from a text is worked out once.
    /// </summary>
    private sealed class BuilderColumn
    {
        public const int BlockRows = 4096;
        private List<object?[]>? _values;
        private List<double[]>? _numbers;
        private List<int[]>? _codes;
        private readonly DistinctTexts _texts = new();

        public BuilderColumn(int blocks, int missingRows, bool holdNumbers)
        {
            if (holdNumbers) (_values, _numbers) = ([], []);
            else _codes = [];
            for (int b = 0; b < blocks; b++) AddBlock();
            for (int row = 0; row < missingRows; row++) SetMissing(row);
        }

        public void AddBlock()
        {
            _values?.Add(new object?[BlockRows]);
            _numbers?.Add(new double[BlockRows]);
            _codes?.Add(new int[BlockRows]); // code 0: missing
        }

        // Per row or cell from a cold start: optimized at once, not tiered up partway through (the objects path 20% faster).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Set(int row, object? value)
        {
            if (_codes is not null)
            {
                if (value is string or null)
                {
                    _codes[row / BlockRows][row % BlockRows] = _texts.CodeOf((string?)value);
                    return;
                }
                CodesToValues();
            }
            _values![row / BlockRows][row % BlockRows] = value;
            if (_numbers is null) return;
            // As NumbersOf reads a cell; a number beyond float32 keeps the column as given, for its error to show the value as written.
            if (TabularValues.TryNumber(value, out var number) && Math.Abs(number) <= float.MaxValue) _numbers[row / BlockRows][row % BlockRows] = number;
            else if (TabularValues.IsMissing(value)) _numbers[row / BlockRows][row % BlockRows] = double.NaN;
            else
            {
                _numbers = null;
                if (value is string) ValuesToCodes(row + 1);
            }
        }

        public void SetMissing(int row)
        {
            if (_numbers is not null) _numbers[row / BlockRows][row % BlockRows] = double.NaN;
        }

        /// <summary>Holds the first <paramref name="rows"/> values as codes, if every one of them is text or null.</summary>
        private void ValuesToCodes(int rows)
        {
            for (int row = 0; row < rows; row++)
                if (_values![row / BlockRows][row % BlockRows] is not (string or null)) return;
            _codes = [.. _values!.Select(block => block.Select(v => _texts.CodeOf((string?)v)).ToArray())];
            _values = null;
        }

        /// <summary>A value that is not text has come: every row's text becomes a value again.</summary>
        private void CodesToValues()
        {
            _values = [.. _codes!.Select(block => block.Select(code => (object?)_texts[code]).ToArray())];
            _codes = null;
        }

        public object ToArray(int rows) =>
            _numbers is not null ? Join(_numbers, rows) : _codes is not null ? new TextCodes(Join(_codes, rows), [.. _texts.Texts]) : Join(_values!, rows);

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

/// <summary>
/// A column of numbers by row, NaN where a value is missing. A file reader holds numbers written with few digits
/// (<c>-12.5</c>, <c>0.1234</c>) as whole numbers m over one power of ten 10^k for the column, in half the memory of
/// doubles: m and 10^k are exact doubles, so m / 10^k is the exact value rounded once, the double that double.Parse
/// gives for the text (Clinger's fast path). Other columns are held as doubles; the numbers of a column of
/// <see cref="TextCodes"/> are its texts' numbers, looked up by code.
/// </summary>
public sealed class NumberColumn
{
    /// <summary>The whole numbers that stand for a missing value and for -0 (which "-0.0000" is, as double.Parse reads it); scaled values are smaller in magnitude.</summary>
    internal const int MissingScaled = int.MinValue, NegativeZeroScaled = int.MinValue + 1, LargestScaled = int.MaxValue - 1;

    private readonly double[]? _doubles;
    private readonly int[]? _scaled;
    private readonly double _powerOfTen;
    private readonly int[]? _codes;

    internal NumberColumn(double[] doubles) => _doubles = doubles;

    internal NumberColumn(int[] scaled, double powerOfTen) => (_scaled, _powerOfTen) = (scaled, powerOfTen);

    /// <summary>The numbers of a column of <see cref="TextCodes"/>: each row's number is its text's, <paramref name="byCode"/>[code].</summary>
    internal NumberColumn(int[] codes, double[] byCode) => (_codes, _doubles) = (codes, byCode);

    /// <summary>How many cells it holds, at least the table's rows.</summary>
    public int Length => _codes?.Length ?? _doubles?.Length ?? _scaled!.Length;

    public double this[int row] => _doubles is not null ? _doubles[_codes is null ? row : _codes[row]]
        : _scaled![row] is var whole && whole > NegativeZeroScaled ? whole / _powerOfTen
        : whole == MissingScaled ? double.NaN : -0.0;

    /// <summary>Whether every number is known to be finite and within float32's range without a look: whole numbers over a power of ten always are.</summary>
    internal bool KnownWithinFloat32 => _doubles is null;
}
