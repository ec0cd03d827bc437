using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using nietras.SeparatedValues;
using Parquet;
using Parquet.Schema;

namespace Isaacai.Data.Tabular;

/// <summary>Which columns of a file to read, and which to keep as written instead of reading as numbers.</summary>
public sealed record TabularFileColumns
{
    /// <summary>Only these columns (matched ignoring case); every column when null. A name the file lacks is an error.</summary>
    public IReadOnlyCollection<string>? Only { get; init; }

    /// <summary>
    /// Columns whose values stay as written (text in CSV, the stored value in Parquet): categories and the target,
    /// whose names are their text. Every other column is held as numbers when all its present values are finite
    /// numbers, and as text when they are not.
    /// </summary>
    public IReadOnlyCollection<string>? Text { get; init; }

    /// <summary>Every column as written, as <see cref="TabularTable.ReadCsv"/> gives them.</summary>
    public bool AllText { get; init; }
}

/// <summary>
/// Reads a table straight from a file, with no object per row: CSV (<c>.csv</c>, RFC 4180 with a header row,
/// UTF-8), TSV (<c>.tsv</c>, the same with tabs) and Parquet (<c>.parquet</c>). A table read so is held by column,
/// numbers as doubles; its cells are those that Import-Csv gives for the same file, so a dataset made from it is
/// the same, bit for bit. A malformed file is one <see cref="InvalidDataException"/> naming the file and the line
/// or column; nothing is returned half-read.
/// </summary>
public static class TabularFile
{
    public static readonly IReadOnlyList<string> Extensions = [".csv", ".tsv", ".parquet"];

    public static TabularTable Read(string path, TabularFileColumns? columns = null, CancellationToken cancel = default)
    {
        columns ??= new TabularFileColumns();
        return IsParquet(path) ? ReadParquet(path, columns, cancel) : ReadSeparated(path, columns, cancel);
    }

    /// <summary>Whether the file is Parquet, by its extension; anything else must be .csv or .tsv.</summary>
    public static bool IsParquet(string path) => KindOf(path) == ".parquet";

    private static string KindOf(string path)
    {
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (!Extensions.Contains(extension))
            throw new InvalidDataException($"{path}: the file's type is not known from its extension '{extension}'; tables are read from {string.Join(", ", Extensions)} files.");
        return extension;
    }

    internal static char SeparatorOf(string path) => KindOf(path) == ".tsv" ? '\t' : ',';

    // ---------------------------------------------------------------- CSV and TSV

    private static TabularTable ReadSeparated(string path, TabularFileColumns columns, CancellationToken cancel)
    {
        using (var reader = OpenSeparated(path))
        {
            var header = HeaderOf(reader, path);
            var chosen = Choose(header, columns, path);
            var modes = chosen.Select(c => columns.AllText || IsNamed(columns.Text, header[c]) ? CellMode.Text : CellMode.Numbers).ToArray();
            var (data, rows, failed) = ReadColumns(reader, path, header, chosen, modes, EstimateRows(path), cancel);
            if (failed.Count > 0)
            {
                // A column that turned out not to be all numbers is read again as written: its earlier cells were
                // parsed, and "1.50" must stay "1.50", not become "1.5", if the column ends up as categories.
                using var again = OpenSeparated(path);
                HeaderOf(again, path);
                var textModes = failed.Select(_ => CellMode.Text).ToArray();
                var (text, _, _) = ReadColumns(again, path, header, failed.Select(i => chosen[i]).ToArray(), textModes, rows, cancel);
                for (int i = 0; i < failed.Count; i++) data[failed[i]] = text[i];
            }
            return new TabularTable(chosen.Select(c => header[c]).ToArray(), data, rows);
        }
    }

    internal static SepReader OpenSeparated(string path)
    {
        // Quotes are checked and removed here, not by Sep, which reads a malformed quote leniently instead of saying so.
        var options = Sep.New(SeparatorOf(path)).Reader(o => o with { DisableColCountCheck = true, Unescape = false, CultureInfo = CultureInfo.InvariantCulture });
        // Read 64 KB at a time: a StreamReader's own 4 KB buffer makes a system call per 4 KB of the file.
        try { return options.From(path, name => new StreamReader(name, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16)); }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException && e is not InvalidDataException)
        {
            throw new InvalidDataException($"{path}: the file cannot be read: {e.Message}", e);
        }
        catch (ArgumentException e) // Sep refuses a header that names a column twice
        {
            throw new InvalidDataException($"{path}: line 1: the header names a column more than once; column names must be unique. ({e.Message})", e);
        }
    }

    internal static string[] HeaderOf(SepReader reader, string path)
    {
        if (reader.Header.IsEmpty) throw new InvalidDataException($"{path}: the file is empty; a {(SeparatorOf(path) == ',' ? "CSV" : "TSV")} file needs a header row naming its columns.");
        var names = reader.Header.ColNames.Select((name, i) => Unquote(name, path, 1, $"column {i + 1} of the header")).ToArray();
        if (names.FirstOrDefault(string.IsNullOrWhiteSpace) is not null)
            throw new InvalidDataException($"{path}: line 1: column {Array.FindIndex(names, string.IsNullOrWhiteSpace) + 1} of the header has no name; every column needs one.");
        return names;
    }

    /// <summary>The positions of the columns to read; an error naming the file's columns for a name it lacks.</summary>
    private static int[] Choose(IReadOnlyList<string> header, TabularFileColumns columns, string path)
    {
        try { _ = new TabularTable(header, []); } // duplicate names: the same error as for any table
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        if (columns.Only is null) return Enumerable.Range(0, header.Count).ToArray();
        var chosen = new List<int>();
        foreach (var name in columns.Only.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            int at = Enumerable.Range(0, header.Count).FirstOrDefault(i => string.Equals(header[i], name, StringComparison.OrdinalIgnoreCase), -1);
            if (at < 0) throw new TabularDataException($"{path}: there is no column '{name}'. The file's columns are: {string.Join(", ", header)}.", name);
            chosen.Add(at);
        }
        chosen.Sort(); // the file's order, as Import-Csv gives the properties
        return chosen.ToArray();
    }

    private static bool IsNamed(IReadOnlyCollection<string>? names, string column) =>
        names is not null && names.Contains(column, StringComparer.OrdinalIgnoreCase);

    /// <summary>How a separated file's cells are held: numbers (double[]), text as written, or numbers where they are and text where not.</summary>
    internal enum CellMode { Numbers, Text, NumbersOrText }

    /// <summary>A rough row count, from the file's size and its first lines, so columns rarely grow.</summary>
    private static int EstimateRows(string path)
    {
        var length = new FileInfo(path).Length;
        using var head = new StreamReader(path);
        long bytes = 0;
        int lines = 0;
        for (string? line; lines < 200 && (line = head.ReadLine()) is not null; lines++) bytes += line.Length + 1;
        return lines <= 1 ? 16 : (int)Math.Clamp(length * 11 / 10 / Math.Max(1, bytes / lines), 16, Array.MaxLength);
    }

    /// <summary>
    /// Reads the chosen columns of every remaining row into column arrays. A column read as numbers that meets a
    /// present value which is not a finite number stops being read, and is listed in Failed for the caller.
    /// </summary>
    // The per-cell code is compiled optimized from the first call: a file is read once, and tiered compilation would
    // run its first hundreds of thousands of cells unoptimized (a sixth of the read's time).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (object[] Data, int Rows, List<int> Failed) ReadColumns(SepReader reader, string path, string[] header, int[] chosen, CellMode[] modes, int capacity, CancellationToken cancel)
    {
        var columns = chosen.Select((c, i) => new ColumnBuilder(modes[i], capacity)).ToArray();
        int rows = 0;
        foreach (var row in reader)
        {
            if ((rows & 0xFFF) == 0) cancel.ThrowIfCancellationRequested();
            if (!CheckWidth(row, header, path)) continue;
            for (int i = 0; i < chosen.Length; i++)
                columns[i].Add(rows, row[chosen[i]].Span, path, row.LineNumberFrom, header[chosen[i]]);
            rows++;
        }
        var failed = Enumerable.Range(0, columns.Length).Where(i => columns[i].Failed).ToList();
        return (columns.Select(c => c.Column(rows)).ToArray(), rows, failed);
    }

    /// <summary>False for a blank line (skipped, as Import-Csv does); an error for a row with another number of fields than the header.</summary>
    internal static bool CheckWidth(SepReader.Row row, string[] header, string path)
    {
        if (row.ColCount == header.Length) return true;
        if (row.ColCount == 1 && row[0].Span.IsWhiteSpace()) return false;
        throw new InvalidDataException($"{path}: line {row.LineNumberFrom} has {row.ColCount} fields; the header has {header.Length} ({string.Join(", ", header)}). " +
            "A field holding the separator, a quote or a line break must be quoted (\"a, b\"), with a quote inside written twice (\"\").");
    }

    /// <summary>A field as RFC 4180 writes it: as is, or quoted with inner quotes doubled. Any other quote is an error naming the line.</summary>
    internal static string Unquote(ReadOnlySpan<char> raw, string path, int line, string where)
    {
        if (raw.IndexOf('"') < 0) return raw.ToString();
        if (!TryUnquote(raw, out var text))
            throw new InvalidDataException(raw[0] == '"' && (raw.Length == 1 || raw[^1] != '"')
                ? $"{path}: line {line}, {where}: the quoted field opened here is never closed, or a quote inside it is not doubled (write \"\" for a quote inside a quoted field)."
                : $"{path}: line {line}, {where}: a stray quote in a field; quote the whole field and double the quotes inside it (\"say \"\"hi\"\"\").");
        return text;
    }

    private static bool TryUnquote(ReadOnlySpan<char> raw, out string text)
    {
        text = "";
        if (raw.Length < 2 || raw[0] != '"' || raw[^1] != '"') return false;
        var inner = raw[1..^1];
        var builder = new System.Text.StringBuilder(inner.Length);
        for (int i = 0; i < inner.Length; i++)
        {
            if (inner[i] == '"')
            {
                if (i + 1 >= inner.Length || inner[i + 1] != '"') return false;
                i++;
            }
            builder.Append(inner[i]);
        }
        text = builder.ToString();
        return true;
    }

    /// <summary>One column's cells as they are read, in the array its mode holds them in: numbers, <see cref="TextCodes"/>, or objects.</summary>
    internal sealed class ColumnBuilder
    {
        private CellMode _mode;
        private readonly int _capacity;
        /// <summary>Numbers as whole numbers over 10^<see cref="_decimals"/> while every one fits (see <see cref="NumberColumn"/>), then as doubles.</summary>
        private int[]? _scaled;
        private int _decimals;
        private long _largestScaled;
        private double[]? _numbers;
        private object?[]? _values;
        private int[]? _codes;
        /// <summary>The distinct texts so far: the codes of text as codes, or the one string per distinct text that the cells of numbers or text share.</summary>
        private DistinctTexts? _texts;
        private bool _anyNumber;

        public ColumnBuilder(CellMode mode, int capacity)
        {
            (_mode, _capacity) = (mode, capacity);
            if (mode == CellMode.Numbers) _scaled = new int[capacity];
            else if (mode == CellMode.NumbersOrText) Array.Fill(_numbers = new double[capacity], double.NaN); // a cell never read is missing
            else StartText(capacity);
        }

        public bool Failed { get; private set; }

        /// <summary>Code 0 is null: the cells of a column that turned to text before its first text (all missing), or a missing number among values.</summary>
        private void StartText(int capacity)
        {
            _texts = new DistinctTexts();
            if (_mode == CellMode.Text) _codes = new int[capacity];
            else _values = new object?[capacity];
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Add(int row, ReadOnlySpan<char> raw, string path, int line, string column)
        {
            if (Failed) return;
            if (_mode == CellMode.NumbersOrText && _numbers is not null)
            {
                if (row == _numbers.Length) Array.Resize(ref _numbers, Grow(row));
                var unquoted = raw.IndexOf('"') >= 0 ? Unquote(raw, path, line, $"column '{column}'").AsSpan() : raw;
                if (TabularValues.TryParseNumber(unquoted, out var number)) { _numbers[row] = number; return; }
                if (TabularValues.IsMissingText(unquoted)) { _numbers[row] = double.NaN; return; }
                // Text among numbers: the column goes on as values, so that the text reaches whoever reads it as it was.
                StartText(_numbers.Length);
                for (int r = 0; r < _numbers.Length; r++) _values![r] = double.IsNaN(_numbers[r]) ? null : _numbers[r];
                _numbers = null;
            }
            if (_scaled is not null || _numbers is not null)
            {
                if (raw.IndexOf('"') >= 0) raw = Unquote(raw, path, line, $"column '{column}'");
                if (_scaled is not null)
                {
                    if (row == _scaled.Length) Array.Resize(ref _scaled, Grow(row));
                    if (TabularValues.TryPlainDecimal(raw, out long whole, out int decimals, out bool negative) && TryScale(row, whole, decimals, negative, out int scaled))
                    {
                        _scaled[row] = scaled;
                        _anyNumber = true;
                        return;
                    }
                }
                else if (row == _numbers!.Length) Array.Resize(ref _numbers, Grow(row));
                if (TabularValues.TryParseNumber(raw, out var number))
                {
                    if (_scaled is not null) ToDoubles(); // another way of writing a number: go on as doubles
                    _numbers![row] = number;
                    _anyNumber = true;
                }
                else if (TabularValues.IsMissingText(raw))
                {
                    if (_scaled is not null) _scaled[row] = NumberColumn.MissingScaled;
                    else _numbers![row] = double.NaN;
                }
                else if (!_anyNumber)
                {
                    // Text from the first value on: the column is text, and the cells before it were all missing
                    // (kept as null, code 0, which reads as missing just as their blanks or NAs did).
                    _numbers = null;
                    _scaled = null;
                    _mode = CellMode.Text;
                    StartText(Math.Max(_capacity, row + 1));
                    _codes![row] = _texts!.CodeOf(raw);
                }
                else { Failed = true; _numbers = null; _scaled = null; }
                return;
            }
            if (_codes is not null)
            {
                if (row == _codes.Length) Array.Resize(ref _codes, Grow(row));
                _codes[row] = raw.IndexOf('"') >= 0 ? _texts!.CodeOf(Unquote(raw, path, line, $"column '{column}'")) : _texts!.CodeOf(raw);
                return;
            }
            if (row == _values!.Length) Array.Resize(ref _values, Grow(row));
            if (TabularValues.TryParseNumber(raw, out var value)) { _values[row] = value; return; }
            _values[row] = _texts![raw.IndexOf('"') >= 0 ? _texts.CodeOf(Unquote(raw, path, line, $"column '{column}'")) : _texts.CodeOf(raw)];
        }

        /// <summary>
        /// The whole number over 10^<see cref="_decimals"/> for the digits; first scaling the column's earlier numbers up
        /// to more decimals if need be. False if it or they would be larger than <see cref="NumberColumn.LargestScaled"/>.
        /// </summary>
        private bool TryScale(int row, long whole, int decimals, bool negative, out int scaled)
        {
            scaled = NumberColumn.NegativeZeroScaled;
            if (negative && whole == 0) return true;
            if (decimals > _decimals)
            {
                long factor = (long)TabularValues.PowersOfTen[decimals - _decimals];
                if (_largestScaled > NumberColumn.LargestScaled / factor) return false;
                for (int r = 0; r < row; r++)
                    if (_scaled![r] is not (NumberColumn.MissingScaled or NumberColumn.NegativeZeroScaled)) _scaled[r] = (int)(_scaled[r] * factor);
                _largestScaled *= factor;
                _decimals = decimals;
            }
            else if (decimals < _decimals)
            {
                long up = (long)TabularValues.PowersOfTen[_decimals - decimals];
                if (whole > NumberColumn.LargestScaled / up) return false;
                whole *= up;
            }
            if (whole > NumberColumn.LargestScaled) return false;
            _largestScaled = Math.Max(_largestScaled, whole);
            scaled = (int)(negative ? -whole : whole);
            return true;
        }

        /// <summary>The numbers read so far as doubles, the same values, to go on with numbers that are not whole numbers over a power of ten.</summary>
        private void ToDoubles()
        {
            var column = new NumberColumn(_scaled!, TabularValues.PowersOfTen[_decimals]);
            _numbers = new double[_scaled!.Length];
            for (int r = 0; r < _numbers.Length; r++) _numbers[r] = column[r];
            _scaled = null;
        }

        private static int Grow(int length) => (int)Math.Min(Array.MaxLength, Math.Max(16L, length + length / 4L));

        /// <summary>The cells read, holding at least <paramref name="rows"/> (see <see cref="TabularTable.Numbers"/>): double[], TextCodes or object?[].</summary>
        public object Column(int rows)
        {
            var texts = _texts?.Texts;
            _texts = null; // the texts' lookup, done with: only the texts themselves go on
            if (_scaled is not null) return new NumberColumn(_scaled, TabularValues.PowersOfTen[_decimals]);
            if (_numbers is not null) return new NumberColumn(_numbers);
            if (_codes is not null) return new TextCodes(_codes, texts!);
            return _values ?? Array.Empty<object?>(); // failed: read again as text
        }
    }

    // ---------------------------------------------------------------- Parquet

    private static TabularTable ReadParquet(string path, TabularFileColumns columns, CancellationToken cancel)
    {
        var parquet = OpenParquet(path, cancel);
        try { return ReadParquet(parquet, path, columns, cancel); }
        finally { parquet.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }

    private static TabularTable ReadParquet(ParquetReader parquet, string path, TabularFileColumns columns, CancellationToken cancel)
    {
        var fields = ParquetFields(parquet, path);
        var header = fields.Select(f => f.Name).ToArray();
        var chosen = Choose(header, columns, path);
        long total = parquet.RowGroups.Sum(g => g.RowCount);
        if (total > Array.MaxLength) throw new InvalidDataException($"{path}: {total} rows; a table holds at most {Array.MaxLength}.");
        var data = new Array[chosen.Length];
        for (int i = 0; i < chosen.Length; i++)
        {
            var field = fields[chosen[i]];
            bool asText = columns.AllText || IsNamed(columns.Text, field.Name) || !IsNumber(field.ClrType);
            data[i] = asText ? new object?[total] : new double[total];
        }
        int at = 0;
        for (int g = 0; g < parquet.RowGroupCount; g++)
        {
            cancel.ThrowIfCancellationRequested();
            using var group = parquet.OpenRowGroupReader(g);
            for (int i = 0; i < chosen.Length; i++)
                ReadParquetColumn(group, fields[chosen[i]], data[i], at, path, cancel);
            at += (int)group.RowCount;
        }
        return new TabularTable(chosen.Select(c => header[c]).ToArray(), data, (int)total);
    }

    internal static ParquetReader OpenParquet(string path, CancellationToken cancel)
    {
        try { return ParquetReader.CreateAsync(path, null, cancel).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not FileNotFoundException)
        {
            throw new InvalidDataException(new FileInfo(path) is { Exists: true, Length: 0 }
                ? $"{path}: the file is empty; a Parquet file needs a schema and rows."
                : $"{path}: not a readable Parquet file: {e.Message}", e);
        }
    }

    /// <summary>The file's columns; an error naming the first one that is not a plain column of values Isaacai can read.</summary>
    internal static DataField[] ParquetFields(ParquetReader parquet, string path)
    {
        foreach (var field in parquet.Schema.Fields)
        {
            string? problem = field switch
            {
                DataField { IsArray: true } => "holds a list in each row",
                DataField data when !IsNumber(data.ClrType) && !IsValue(data.ClrType) => $"holds {data.ClrType.Name} values",
                DataField => null,
                _ => $"is a nested {field.SchemaType} column",
            };
            if (problem is not null)
                throw new InvalidDataException($"{path}: the column '{field.Name}' {problem}, which Isaacai cannot read; columns of numbers, text, booleans and dates can be read. Leave it out of the file, or give it as one of those.");
        }
        return parquet.Schema.DataFields;
    }

    private static bool IsNumber(Type type) => type == typeof(double) || type == typeof(float) || type == typeof(int) || type == typeof(long)
        || type == typeof(short) || type == typeof(sbyte) || type == typeof(byte) || type == typeof(ushort) || type == typeof(uint)
        || type == typeof(ulong) || type == typeof(decimal);

    /// <summary>Parquet.Net gives a text column's type as string or as ReadOnlyMemory&lt;char&gt;.</summary>
    private static bool IsText(Type type) => type == typeof(string) || type == typeof(ReadOnlyMemory<char>);

    private static bool IsValue(Type type) => IsText(type) || type == typeof(bool) || type == typeof(DateTime)
        || type == typeof(DateTimeOffset) || type == typeof(DateOnly) || type == typeof(TimeSpan) || type == typeof(TimeOnly);

    /// <summary>One row group's values of a column into <paramref name="into"/> from <paramref name="at"/>: doubles (NaN for null), or the values as read.</summary>
    internal static void ReadParquetColumn(ParquetRowGroupReader group, DataField field, Array into, int at, string path, CancellationToken cancel)
    {
        int count = checked((int)group.RowCount);
        var t = field.ClrType;
        try
        {
            if (IsText(t))
            {
                var text = new string?[count];
                group.ReadAsync(field, text.AsMemory(), null, cancel).AsTask().GetAwaiter().GetResult();
                text.CopyTo((object?[])into, at);
            }
            else if (t == typeof(double)) Values<double>(group, field, into, at, count, cancel);
            else if (t == typeof(float)) Values<float>(group, field, into, at, count, cancel);
            else if (t == typeof(int)) Values<int>(group, field, into, at, count, cancel);
            else if (t == typeof(long)) Values<long>(group, field, into, at, count, cancel);
            else if (t == typeof(short)) Values<short>(group, field, into, at, count, cancel);
            else if (t == typeof(sbyte)) Values<sbyte>(group, field, into, at, count, cancel);
            else if (t == typeof(byte)) Values<byte>(group, field, into, at, count, cancel);
            else if (t == typeof(ushort)) Values<ushort>(group, field, into, at, count, cancel);
            else if (t == typeof(uint)) Values<uint>(group, field, into, at, count, cancel);
            else if (t == typeof(ulong)) Values<ulong>(group, field, into, at, count, cancel);
            else if (t == typeof(decimal)) Values<decimal>(group, field, into, at, count, cancel);
            else if (t == typeof(bool)) Values<bool>(group, field, into, at, count, cancel);
            else if (t == typeof(DateTime)) Values<DateTime>(group, field, into, at, count, cancel);
            else if (t == typeof(DateTimeOffset)) Values<DateTimeOffset>(group, field, into, at, count, cancel);
            else if (t == typeof(DateOnly)) Values<DateOnly>(group, field, into, at, count, cancel);
            else if (t == typeof(TimeSpan)) Values<TimeSpan>(group, field, into, at, count, cancel);
            else if (t == typeof(TimeOnly)) Values<TimeOnly>(group, field, into, at, count, cancel);
            else throw new InvalidOperationException($"no reader for {t.Name}"); // ParquetFields refuses these first
        }
        catch (Exception e) when (e is not (OperationCanceledException or InvalidDataException))
        {
            throw new InvalidDataException($"{path}: the column '{field.Name}' cannot be read: {e.Message}", e);
        }
    }

    private static void Values<T>(ParquetRowGroupReader group, DataField field, Array into, int at, int count, CancellationToken cancel) where T : struct
    {
        var values = new T?[count];
        if (field.IsNullable) group.ReadAsync<T>(field, values.AsMemory(), null, cancel).AsTask().GetAwaiter().GetResult();
        else
        {
            var required = new T[count];
            group.ReadAsync<T>(field, required.AsMemory(), null, cancel).AsTask().GetAwaiter().GetResult();
            for (int i = 0; i < count; i++) values[i] = required[i];
        }
        if (into is double[] numbers)
        {
            // As TabularValues.TryNumber reads the same value given as an object; a non-finite one is missing here
            // only if NaN (an infinity is refused later, as for objects).
            for (int i = 0; i < count; i++)
                numbers[at + i] = values[i] is { } v ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : double.NaN;
        }
        else
        {
            var objects = (object?[])into;
            for (int i = 0; i < count; i++) objects[at + i] = values[i];
        }
    }
}
