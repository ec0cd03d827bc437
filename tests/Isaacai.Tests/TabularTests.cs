using System.Globalization;
using System.Text;
using Isaacai.Data;
using Isaacai.Data.Tabular;
using Isaacai.Metrics;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Isaacai.Tests;

/// <summary>An <see cref="ILogger"/> that keeps every message, to check what the engine warns about.</summary>
internal sealed class RecordingLogger : ILogger
{
    public List<(LogLevel Level, string Message)> Entries { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Add((logLevel, formatter(state, exception)));

    public IEnumerable<string> Warnings => Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message);
}

public sealed class TabularTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("isaacai-tabular-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string WriteFile(string content, string name = "data.csv", bool bom = false)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, content, new UTF8Encoding(bom));
        return path;
    }

    private static string PenguinsPath => Path.Combine(AppContext.BaseDirectory, "datasets", "palmer-penguins", "penguins.csv");

    /// <summary>A row id column: a category per row, "r00", "r01", …, so the one-hot block tells which table row an encoded row is.</summary>
    private static string Id(int row) => $"r{row:D3}";

    /// <summary>The table rows (0-based) that a split holds, read back from the one-hot block of the id column.</summary>
    private static int[] RowsOf(TensorDataset split, TabularProcessor processor, string idColumn = "id")
    {
        int offset = 0, f = 0;
        for (; processor.Features[f].Name != idColumn; f++) offset += processor.Features[f].Width;
        var id = processor.Features[f];
        Assert.Equal(FeatureKind.Category, id.Kind);
        using var block = split.X.narrow(1, offset, id.Width);
        using var sums = block.sum(1);
        Assert.All(sums.data<float>().ToArray(), s => Assert.Equal(1f, s)); // exactly one hot
        using var index = block.argmax(1);
        return index.data<long>().ToArray().Select(i => int.Parse(id.Categories[(int)i][1..], CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>The encoded column of one numeric feature, per encoded row.</summary>
    private static float[] Column(TensorDataset split, TabularProcessor processor, string column)
    {
        int offset = 0, f = 0;
        for (; processor.Features[f].Name != column; f++) offset += processor.Features[f].Width;
        Assert.Equal(FeatureKind.Numeric, processor.Features[f].Kind);
        using var values = split.X.narrow(1, offset, 1).flatten();
        return values.data<float>().ToArray();
    }

    private static double Mean(IEnumerable<double> values) => values.Average();

    private static double PopulationStd(IReadOnlyCollection<double> values)
    {
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count);
    }

    /// <summary>One row encoded, as its values (those of the features, in order).</summary>
    internal static float[] Encode(TabularProcessor processor, params object?[] values)
    {
        var row = new float[processor.Width];
        processor.EncodeRow(values, 1, row);
        return row;
    }

    // ---------------------------------------------------------------- CSV reading

    [Fact]
    public void Csv_quotes_keep_commas_doubled_quotes_and_newlines_and_crlf_is_a_line_end()
    {
        var path = WriteFile(
            "name,remark,n\r\n" +
            "\"Smith, J\",\"He said \"\"hi\"\"\",1\r\n" +
            "\"two\nlines\",\"crlf\r\ninside\",2\r\n" +
            "plain,\"\",3\r\n");
        var table = TabularTable.ReadCsv(path);

        Assert.Equal(["name", "remark", "n"], table.Columns);
        Assert.Equal(3, table.Rows.Count);
        Assert.Equal(["Smith, J", "He said \"hi\"", "1"], table.Rows[0]);
        Assert.Equal(["two\nlines", "crlf\r\ninside", "2"], table.Rows[1]);
        Assert.Equal(["plain", "", "3"], table.Rows[2]);
        Assert.All(table.Rows.SelectMany(r => r), v => Assert.IsType<string>(v)); // nothing typed yet
    }

    [Theory]
    [InlineData("a,b\n1,2\n")]
    [InlineData("a,b\r\n1,2\r\n")]
    [InlineData("a,b\n1,2")]
    [InlineData("a,b\r\n1,2\r\n\r\n")]
    [InlineData("a,b\n1,2\n\n\n")]
    public void Csv_line_ends_and_blank_trailing_lines_add_no_rows(string content)
    {
        var table = TabularTable.ReadCsv(WriteFile(content));
        Assert.Equal(["a", "b"], table.Columns);
        var row = Assert.Single(table.Rows);
        Assert.Equal(["1", "2"], row);
    }

    [Fact]
    public void Csv_byte_order_mark_is_not_part_of_the_first_column_name()
    {
        var table = TabularTable.ReadCsv(WriteFile("alpha,beta\n1,2\n", bom: true));
        Assert.Equal("alpha", table.Columns[0]);
        Assert.Equal(0, table.IndexOf("ALPHA")); // and names ignore case
    }

    [Fact]
    public void Csv_row_with_the_wrong_number_of_fields_is_an_error_naming_the_file_and_line()
    {
        var path = WriteFile("a,b\n1,2\n3,4,5\n6,7\n");
        var error = Assert.Throws<InvalidDataException>(() => TabularTable.ReadCsv(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("line 3 has 3 fields", error.Message);
        Assert.Contains("the header has 2", error.Message);

        var tooFew = WriteFile("a,b,c\n1,2,3\n4,5\n", "few.csv");
        Assert.Contains("line 3 has 2 fields", Assert.Throws<InvalidDataException>(() => TabularTable.ReadCsv(tooFew)).Message);
    }

    [Fact]
    public void Csv_error_line_counts_the_lines_inside_quoted_fields()
    {
        // The bad record starts on line 5 of the file: the quoted field before it spans lines 2 to 4.
        var path = WriteFile("a,b\n\"one\ntwo\nthree\",1\n1,2,3\n");
        var error = Assert.Throws<InvalidDataException>(() => TabularTable.ReadCsv(path));
        Assert.Contains("line 5 has 3 fields", error.Message);
    }

    [Fact]
    public void Csv_empty_file_and_unclosed_quote_are_errors()
    {
        var empty = WriteFile("", "empty.csv");
        var error = Assert.Throws<InvalidDataException>(() => TabularTable.ReadCsv(empty));
        Assert.Contains("empty", error.Message);

        var open = WriteFile("a,b\n1,\"never closed\n2,3\n", "open.csv");
        error = Assert.Throws<InvalidDataException>(() => TabularTable.ReadCsv(open));
        Assert.Contains("never closed", error.Message);
        Assert.Contains(open, error.Message);
    }

    [Fact]
    public void Table_rejects_duplicate_columns_and_ragged_rows()
    {
        Assert.Contains("'a' appears twice", Assert.Throws<ArgumentException>(() => new TabularTable(["a", "a"], [])).Message);
        Assert.Contains("'a' and 'A' differ only in case", Assert.Throws<ArgumentException>(() => new TabularTable(["a", "A"], [])).Message);
        Assert.Contains("Row 2 has 1 values", Assert.Throws<ArgumentException>(() => new TabularTable(["a", "b"], [["1", "2"], ["3"]])).Message);
    }

    [Fact]
    public void FromRecords_takes_columns_in_first_seen_order_and_leaves_absent_fields_null()
    {
        var table = TabularTable.FromRecords([
            new Dictionary<string, object?> { ["x"] = 1, ["y"] = "a" },
            new Dictionary<string, object?> { ["Y"] = "b", ["z"] = 2.5 },
        ]);
        Assert.Equal(["x", "y", "z"], table.Columns);
        Assert.Equal([1, "a", null], table.Rows[0]);
        Assert.Equal([null, "b", 2.5], table.Rows[1]);
    }

    // ---------------------------------------------------------------- values

    [Fact]
    public void Numbers_are_read_in_the_invariant_culture_whatever_the_current_one()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            Assert.Equal(",", CultureInfo.CurrentCulture.NumberFormat.NumberDecimalSeparator); // the test means something

            Assert.True(TabularValues.TryNumber("1.5", out var n)); Assert.Equal(1.5, n);
            Assert.True(TabularValues.TryNumber(" -2e3 ", out n)); Assert.Equal(-2000, n);
            Assert.True(TabularValues.TryNumber(7, out n)); Assert.Equal(7, n);
            Assert.True(TabularValues.TryNumber(2.25m, out n)); Assert.Equal(2.25, n);
            Assert.True(TabularValues.TryNumber(0.5f, out n)); Assert.Equal(0.5, n);
            Assert.False(TabularValues.TryNumber("1,5", out _));
            Assert.False(TabularValues.TryNumber("1.234,5", out _));
            Assert.False(TabularValues.TryNumber("Infinity", out _));
            Assert.False(TabularValues.TryNumber(double.PositiveInfinity, out _));
            Assert.False(TabularValues.TryNumber(true, out _));
            Assert.False(TabularValues.TryNumber(null, out _));
            Assert.Equal("1.5", TabularValues.Text(1.5));

            // Through a whole dataset: "1.5" is a number (not a category) with the mean of the invariant reading.
            var table = TabularTable.ReadCsv(WriteFile("x,y\n1.5,a\n2.5,b\n1.5,a\n2.5,b\n1.5,a\n2.5,b\n"));
            var dd = TabularDatasets.FromTable(table, new TabularOptions("y") { ValidFraction = 0.34 });
            var x = Assert.Single(dd.Processor!.Features);
            Assert.Equal(FeatureKind.Numeric, x.Kind);
            Assert.Equal(2, x.Mean, 12); // the train split keeps two rows of each class: 1.5, 1.5, 2.5, 2.5
            Assert.Equal(0.5, x.Std, 12);
        }
        finally { CultureInfo.CurrentCulture = saved; }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("NA")]
    [InlineData(" na ")]
    [InlineData("N/A")]
    [InlineData("NaN")]
    [InlineData(double.NaN)]
    [InlineData(float.NaN)]
    public void Missing_values_are_null_blank_na_and_nan(object? value) => Assert.True(TabularValues.IsMissing(value));

    [Theory]
    [InlineData("0")]
    [InlineData(0)]
    [InlineData(0.0)]
    [InlineData("NAB")]
    [InlineData("none")]
    [InlineData(false)]
    public void Other_values_are_not_missing(object value) => Assert.False(TabularValues.IsMissing(value));

    [Fact]
    public void DBNull_is_missing() => Assert.True(TabularValues.IsMissing(DBNull.Value));

    // ---------------------------------------------------------------- encoding

    [Fact]
    public void A_column_is_numeric_only_if_every_present_value_is_a_number()
    {
        var rows = Enumerable.Range(0, 12).Select(i => new object?[]
        {
            (i + 1).ToString(CultureInfo.InvariantCulture),   // all numbers → numeric
            i % 4 == 0 ? $"{i}.5" : $"s{i}",                  // mostly text, a few numbers → category
            i == 3 ? "NA" : $"{i * 2}",                       // numbers and a missing value → numeric
            i % 2 == 0 ? 1 : 2.5,                             // .NET numbers → numeric
            i % 3 == 0 ? "yes" : "no",
        }).ToList();
        var table = new TabularTable(["a", "b", "c", "d", "target"], rows);
        var processor = TabularDatasets.FromTable(table, new TabularOptions("target") { MissingValue = MissingValuePolicy.Mean }).Processor!;

        Assert.Equal(["a", "b", "c", "d"], processor.FeatureNames);
        Assert.Equal([FeatureKind.Numeric, FeatureKind.Category, FeatureKind.Numeric, FeatureKind.Numeric], processor.Features.Select(f => f.Kind));
        Assert.Equal(12, processor.Features[1].Categories.Count); // 3 numbers-as-text and 9 texts, every row's value
        Assert.Equal(1 + 12 + 1 + 1, processor.Width);
    }

    [Fact]
    public void Standardisation_uses_the_train_split_only()
    {
        const int n = 30;
        double Value(int i) => i * i * 0.5 + (i % 3); // skewed, so the train and overall means differ
        double Other(int i) => 100 - 3.25 * i;
        var rows = Enumerable.Range(0, n).Select(i => new object?[]
        {
            Id(i), Value(i).ToString("R", CultureInfo.InvariantCulture), Other(i).ToString("R", CultureInfo.InvariantCulture), i % 2 == 0 ? "even" : "odd",
        }).ToList();
        var table = new TabularTable(["id", "v", "w", "parity"], rows);
        var dd = TabularDatasets.FromTable(table, new TabularOptions("parity") { ValidFraction = 0.3, Seed = 3, Categories = ["id"] });
        var processor = dd.Processor!;

        var train = RowsOf(dd["train"].Tensors(), processor);
        var valid = RowsOf(dd["valid"].Tensors(), processor);
        Assert.Equal(Enumerable.Range(0, n), train.Concat(valid).Order()); // every row once
        Assert.Equal(train.Order(), train); // table order kept

        var trainValues = train.Select(Value).ToList();
        double mean = Mean(trainValues), std = PopulationStd(trainValues);
        var v = processor.Features.Single(f => f.Name == "v");
        Assert.Equal(mean, v.Mean, 9);
        Assert.Equal(std, v.Std, 9);
        Assert.NotEqual(Mean(Enumerable.Range(0, n).Select(Value)), v.Mean, 3); // not the whole table's
        var w = processor.Features.Single(f => f.Name == "w");
        Assert.Equal(Mean(train.Select(Other)), w.Mean, 9);
        Assert.Equal(PopulationStd(train.Select(Other).ToList()), w.Std, 9);

        // Both splits are encoded with the train statistics.
        foreach (var (split, ids) in new[] { (dd["train"], train), (dd["valid"], valid) })
        {
            var encoded = Column(split.Tensors(), processor, "v");
            for (int i = 0; i < ids.Length; i++) Assert.Equal((float)((Value(ids[i]) - mean) / std), encoded[i], 5);
        }
        var trainEncoded = Column(dd["train"].Tensors(), processor, "v").Select(f => (double)f).ToList();
        Assert.Equal(0, Mean(trainEncoded), 5);
        Assert.Equal(1, PopulationStd(trainEncoded), 5);
    }

    [Fact]
    public void A_constant_column_gets_std_one_rather_than_a_division_by_zero()
    {
        var rows = Enumerable.Range(0, 10).Select(i => new object?[] { "4", $"{i}", i < 5 ? "a" : "b" }).ToList();
        var dd = TabularDatasets.FromTable(new TabularTable(["k", "i", "t"], rows), new TabularOptions("t"));
        var k = dd.Processor!.Features[0];
        Assert.Equal(4, k.Mean);
        Assert.Equal(1, k.Std);
        using var finite = dd["train"].Tensors().X.isfinite().all();
        Assert.True(finite.item<bool>());
    }

    [Fact]
    public void Categories_are_one_hot_blocks_in_sorted_order()
    {
        var colors = new[] { "red", "green", "blue", "green", "red", "red", "blue", "green", "red", "blue" };
        var rows = colors.Select((c, i) => new object?[] { $"{i}", c, $"{10 - i}", i % 2 == 0 ? "p" : "q" }).ToList();
        var dd = TabularDatasets.FromTable(new TabularTable(["a", "color", "b", "t"], rows), new TabularOptions("t") { ValidFraction = 0.2 });
        var p = dd.Processor!;

        Assert.Equal(["blue", "green", "red"], p.Features[1].Categories);
        Assert.Equal([1, 3, 1], p.Features.Select(f => f.Width));
        Assert.Equal(5, p.Width);
        Assert.Equal([5L], dd["train"].Tensors().X.shape.Skip(1));

        var a = p.Features[0];
        var b = p.Features[2];
        var row = Encode(p, "2", "green", "5");
        Assert.Equal([(float)((2 - a.Mean) / a.Std), 0f, 1f, 0f, (float)((5 - b.Mean) / b.Std)], row);
        Assert.Equal([0f, 0f, 1f], Encode(p, "2", " red ", "5")[1..4]); // category text is trimmed
        Assert.Equal([1f, 0f, 0f], Encode(p, 2, "blue", 5.0)[1..4]);  // and numbers may be .NET numbers

        // Every encoded row of both splits has exactly one 1 in the block, and it is the row's colour.
        int total = 0;
        foreach (var split in new[] { dd["train"].Tensors(), dd["valid"].Tensors() })
        {
            using var block = split.X.narrow(1, 1, 3);
            var values = block.data<float>().ToArray();
            using var aColumn = split.X.narrow(1, 0, 1).flatten();
            var ids = aColumn.data<float>().ToArray().Select(z => (int)Math.Round(z * a.Std + a.Mean)).ToArray();
            for (int i = 0; i < ids.Length; i++)
            {
                var oneHot = values.AsSpan(i * 3, 3).ToArray();
                Assert.Equal(1f, oneHot.Sum());
                Assert.Equal(colors[ids[i]], p.Features[1].Categories[Array.IndexOf(oneHot, 1f)]);
            }
            total += ids.Length;
        }
        Assert.Equal(colors.Length, total);
    }

    [Fact]
    public void Classes_are_sorted_numerically_when_all_are_numbers_and_ordinally_otherwise()
    {
        var numeric = new[] { "10", "2", "1", "2", "10", "1", "2", "10", "1", "2" };
        var rows = numeric.Select((t, i) => new object?[] { $"{i}", t }).ToList();
        var dd = TabularDatasets.FromTable(new TabularTable(["x", "t"], rows), new TabularOptions("t"));
        Assert.Equal(TaskKind.Classification, dd.Target!.Task);
        Assert.Equal(["1", "2", "10"], dd.Target.Classes);
        Assert.Equal(3, dd.Target.OutputSize);
        // The labels are indices into those classes: x (the row number) tells which class each row had.
        var x = dd.Processor!.Features[0];
        foreach (var split in new[] { dd["train"].Tensors(), dd["valid"].Tensors() })
        {
            Assert.Equal(ScalarType.Int64, split.Y.dtype);
            var labels = split.Y.data<long>().ToArray();
            using var xs = split.X.flatten();
            var ids = xs.data<float>().ToArray().Select(z => (int)Math.Round(z * x.Std + x.Mean)).ToArray();
            for (int i = 0; i < ids.Length; i++) Assert.Equal(numeric[ids[i]], dd.Target.Classes[(int)labels[i]]);
        }

        var text = new[] { "b", "a", "C", "b", "a", "C" };
        dd = TabularDatasets.FromTable(new TabularTable(["x", "t"], text.Select((t, i) => new object?[] { $"{i}", t }).ToList()), new TabularOptions("t"));
        Assert.Equal(["C", "a", "b"], dd.Target!.Classes);

        var mixed = new[] { "10", "2", "x", "10", "2", "x" };
        dd = TabularDatasets.FromTable(new TabularTable(["x", "t"], mixed.Select((t, i) => new object?[] { $"{i}", t }).ToList()), new TabularOptions("t") { Task = TaskKind.Classification });
        Assert.Equal(["10", "2", "x"], dd.Target!.Classes);
    }

    // ---------------------------------------------------------------- split

    private static TabularTable ThreeClasses(int a = 50, int b = 30, int c = 20)
    {
        var labels = Enumerable.Repeat("a", a).Concat(Enumerable.Repeat("b", b)).Concat(Enumerable.Repeat("c", c)).ToArray();
        // Interleave the classes, so that a split that ignored them would not be balanced by accident.
        var order = Enumerable.Range(0, labels.Length).OrderBy(i => (i * 37) % labels.Length).ToArray();
        return new TabularTable(["id", "x", "label"], order.Select((o, i) => new object?[] { Id(i), $"{o % 7}", labels[o] }).ToList());
    }

    [Fact]
    public void Split_is_stratified_by_class()
    {
        var table = ThreeClasses();
        const double fraction = 0.2;
        var dd = TabularDatasets.FromTable(table, new TabularOptions("label") { ValidFraction = fraction, Features = ["id", "x"] });
        Assert.Equal(["a", "b", "c"], dd.Target!.Classes);

        var valid = RowsOf(dd["valid"].Tensors(), dd.Processor!);
        var train = RowsOf(dd["train"].Tensors(), dd.Processor!);
        Assert.Empty(valid.Intersect(train));
        Assert.Equal(table.Rows.Count, valid.Length + train.Length);

        var validLabels = dd["valid"].Tensors().Y.data<long>().ToArray();
        for (int c = 0; c < 3; c++)
        {
            int total = table.Rows.Count(r => (string)r[2]! == dd.Target.Classes[c]);
            int inValid = validLabels.Count(l => l == c);
            Assert.InRange(inValid, Math.Floor(total * fraction), Math.Ceiling(total * fraction));
        }
        // And the labels are those of the rows.
        for (int i = 0; i < valid.Length; i++) Assert.Equal((string)table.Rows[valid[i]][2]!, dd.Target.Classes[(int)validLabels[i]]);
    }

    [Fact]
    public void Split_is_deterministic_for_a_seed_and_differs_for_another()
    {
        var table = ThreeClasses();
        int[] Valid(int seed)
        {
            var dd = TabularDatasets.FromTable(table, new TabularOptions("label") { Seed = seed, Features = ["id", "x"] });
            return RowsOf(dd["valid"].Tensors(), dd.Processor!);
        }
        var first = Valid(42);
        Assert.Equal(first, Valid(42));
        Assert.NotEqual(first, Valid(43));
        Assert.Equal(first.Length, Valid(43).Length); // same sizes, other rows
    }

    [Fact]
    public void A_class_of_two_rows_is_in_both_splits()
    {
        var table = ThreeClasses(a: 40, b: 20, c: 2);
        var dd = TabularDatasets.FromTable(table, new TabularOptions("label") { ValidFraction = 0.1, Features = ["x"] });
        Assert.Equal(1, dd["train"].Tensors().Y.data<long>().ToArray().Count(l => l == 2));
        Assert.Equal(1, dd["valid"].Tensors().Y.data<long>().ToArray().Count(l => l == 2));
    }

    [Fact]
    public void Regression_split_takes_the_fraction_of_all_rows()
    {
        var rows = Enumerable.Range(0, 40).Select(i => new object?[] { Id(i), $"{i * 0.25}" }).ToList();
        var dd = TabularDatasets.FromTable(new TabularTable(["id", "y"], rows), new TabularOptions("y") { ValidFraction = 0.25, Categories = ["id"] });
        Assert.Equal(TaskKind.Regression, dd.Target!.Task);
        Assert.Equal(10, dd["valid"].Count);
        Assert.Equal(30, dd["train"].Count);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void Valid_fraction_must_be_strictly_between_zero_and_one(double fraction) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TabularDatasets.FromTable(ThreeClasses(), new TabularOptions("label") { ValidFraction = fraction }));

    // ---------------------------------------------------------------- missing values

    /// <summary>12 rows: id, a (numeric), color (category), y (class). Row 3 (1-based) misses color, row 5 a and color, row 8 a.</summary>
    private static TabularTable WithGaps(string? missingTarget = "q")
    {
        var a = new object?[] { "1", "2", "3", "4", null, "6", "7", "NA", "9", "10", "11", "12" };
        var color = new object?[] { "red", "blue", "", "red", "  ", "blue", "red", "red", "blue", "red", "blue", "red" };
        var rows = Enumerable.Range(0, 12).Select(i => new object?[] { Id(i), a[i], color[i], i % 2 == 0 ? "p" : "q" }).ToList();
        rows[9][3] = missingTarget;
        return new TabularTable(["id", "a", "color", "y"], rows);
    }

    [Fact]
    public void Missing_values_by_default_are_one_error_naming_the_first_row_and_column_and_the_count()
    {
        var table = WithGaps();
        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(table, new TabularOptions("y")));
        Assert.StartsWith("Row 3 has no value for 'color'", error.Message);
        Assert.Contains("3 of 12 rows have missing values", error.Message);
        Assert.Contains("a (2)", error.Message);
        Assert.Contains("color (2)", error.Message);
        Assert.Contains("Drop", error.Message); // says what to do
        Assert.Equal("color", error.Column);
        Assert.Equal(3, error.Row);
    }

    [Fact]
    public void Missing_values_in_a_column_that_is_not_used_are_no_error()
    {
        var dd = TabularDatasets.FromTable(WithGaps(), new TabularOptions("y") { Features = ["id"] });
        Assert.Equal(12, dd["train"].Count + dd["valid"].Count);
    }

    [Fact]
    public void Drop_leaves_out_exactly_the_rows_with_a_missing_value_and_warns()
    {
        var logger = new RecordingLogger();
        var dd = TabularDatasets.FromTable(WithGaps(), new TabularOptions("y") { MissingValue = MissingValuePolicy.Drop }, logger);
        var kept = RowsOf(dd["train"].Tensors(), dd.Processor!).Concat(RowsOf(dd["valid"].Tensors(), dd.Processor!)).Order();
        Assert.Equal([0, 1, 3, 5, 6, 8, 9, 10, 11], kept);
        Assert.DoesNotContain(Id(2), dd.Processor!.Features[0].Categories); // dropped rows' values are not in the vocabulary
        var warning = Assert.Single(logger.Warnings);
        Assert.Contains("Left out 3 of 12 rows", warning);
    }

    [Fact]
    public void Mean_fills_a_number_with_the_train_mean_and_a_category_with_the_train_mode()
    {
        var table = WithGaps();
        var dd = TabularDatasets.FromTable(table, new TabularOptions("y") { MissingValue = MissingValuePolicy.Mean, Seed = 5 });
        var p = dd.Processor!;
        var train = RowsOf(dd["train"].Tensors(), p);
        Assert.Equal(12, train.Length + dd["valid"].Count); // nothing dropped

        var trainA = train.Select(r => table.Rows[r][1]).Where(v => !TabularValues.IsMissing(v)).Select(v => double.Parse((string)v!, CultureInfo.InvariantCulture)).ToList();
        var a = p.Features[1];
        Assert.Equal(Mean(trainA), a.Mean, 12);
        Assert.Equal(PopulationStd(trainA), a.Std, 12);
        Assert.Equal(a.Mean, double.Parse(a.Fill!, CultureInfo.InvariantCulture));

        var trainColors = train.Select(r => TabularValues.Text(table.Rows[r][2])).Where(c => c.Length > 0).ToList();
        var mode = trainColors.GroupBy(c => c).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
        Assert.Equal(mode, p.Features[2].Fill);

        // The encoded cells of rows 5 and 8 (a missing) and 3 and 5 (color missing) equal the encoding of the fill.
        int aOffset = p.Features[0].Width;
        var expectedA = (float)((a.Mean - a.Mean) / a.Std);
        var expectedColor = Encode(p, Id(0), "1", mode).AsSpan(aOffset + 1, 2).ToArray();
        foreach (var split in new[] { dd["train"].Tensors(), dd["valid"].Tensors() })
        {
            var ids = RowsOf(split, p);
            var x = split.X.data<float>().ToArray();
            for (int i = 0; i < ids.Length; i++)
            {
                var row = x.AsSpan(i * p.Width, p.Width);
                if (ids[i] is 4 or 7) Assert.Equal(expectedA, row[aOffset]);
                else Assert.Equal((float)((double.Parse((string)table.Rows[ids[i]][1]!, CultureInfo.InvariantCulture) - a.Mean) / a.Std), row[aOffset], 5);
                if (ids[i] is 2 or 4) Assert.Equal(expectedColor, row.Slice(aOffset + 1, 2).ToArray());
            }
        }
        // A missing value at prediction time is filled the same way.
        Assert.Equal(Encode(p, Id(1), a.Mean.ToString("R", CultureInfo.InvariantCulture), mode), Encode(p, Id(1), null, "NA"));
    }

    [Fact]
    public void Mode_fills_a_number_with_its_most_frequent_train_value()
    {
        var values = new[] { "7", "3", "7", "NA", "7", "1", "7", "7", "9", "7", "7", "2", "7", "7", "5", "7" };
        var rows = values.Select((v, i) => new object?[] { Id(i), v, i % 2 == 0 ? "p" : "q" }).ToList();
        var table = new TabularTable(["id", "n", "y"], rows);
        var dd = TabularDatasets.FromTable(table, new TabularOptions("y") { MissingValue = MissingValuePolicy.Mode });
        var n = dd.Processor!.Features[1];
        Assert.Equal("7", n.Fill);
        Assert.Equal(Encode(dd.Processor, Id(0), 7), Encode(dd.Processor, Id(0), "NA"));
        Assert.NotEqual(0f, Encode(dd.Processor, Id(0), "NA")[^1]); // the mode, not the mean

        // In the dataset, row 4 (index 3) encodes to the mode.
        foreach (var split in new[] { dd["train"].Tensors(), dd["valid"].Tensors() })
        {
            var ids = RowsOf(split, dd.Processor);
            var column = Column(split, dd.Processor, "n");
            int at = Array.IndexOf(ids, 3);
            if (at >= 0) Assert.Equal((float)((7 - n.Mean) / n.Std), column[at]);
        }
    }

    [Fact]
    public void A_row_without_a_target_is_left_out_under_Mean_with_a_warning()
    {
        var logger = new RecordingLogger();
        var dd = TabularDatasets.FromTable(WithGaps(missingTarget: "NA"), new TabularOptions("y") { MissingValue = MissingValuePolicy.Mean }, logger);
        var kept = RowsOf(dd["train"].Tensors(), dd.Processor!).Concat(RowsOf(dd["valid"].Tensors(), dd.Processor!)).Order();
        Assert.Equal(Enumerable.Range(0, 12).Where(r => r != 9), kept); // rows with missing features stay, filled
        var warning = Assert.Single(logger.Warnings);
        Assert.Contains("Left out 1 of 12 rows", warning);
        Assert.Contains("no 'y'", warning);
    }

    [Fact]
    public void Encoding_a_missing_value_with_no_fill_names_the_row_and_column()
    {
        var dd = TabularDatasets.FromTable(WithGaps(), new TabularOptions("y") { MissingValue = MissingValuePolicy.Drop });
        var row = new float[dd.Processor!.Width];
        var error = Assert.Throws<TabularDataException>(() => dd.Processor.EncodeRow([Id(0), "", "red"], 17, row));
        Assert.Contains("Row 17 has no value for 'a'", error.Message);
        Assert.Contains("Drop", error.Message);
        Assert.Equal(17, error.Row);
        Assert.Equal("a", error.Column);
    }

    [Fact]
    public void An_unknown_category_names_the_column_the_value_and_the_known_ones()
    {
        var dd = TabularDatasets.FromTable(WithGaps(), new TabularOptions("y") { MissingValue = MissingValuePolicy.Drop });
        var p = dd.Processor!;
        var row = new float[p.Width];
        var error = Assert.Throws<TabularDataException>(() => p.EncodeRow([Id(0), "1", "purple"], 4, row));
        Assert.Contains("column 'color'", error.Message);
        Assert.Contains("'purple'", error.Message);
        Assert.Contains("Known categories: blue, red.", error.Message);
        Assert.Equal("color", error.Column);
        Assert.Equal(4, error.Row);

        // A number where a number belongs, too.
        error = Assert.Throws<TabularDataException>(() => p.EncodeRow([Id(0), "1,5", "red"], 2, row));
        Assert.Contains("'1,5' is not a number", error.Message);
        Assert.Equal("a", error.Column);

        // And the wrong number of values, or a destination of the wrong size.
        Assert.Throws<ArgumentException>(() => p.EncodeRow([Id(0), "1"], 1, row));
        Assert.Throws<ArgumentException>(() => p.EncodeRow([Id(0), "1", "red"], 1, new float[p.Width + 1]));
    }

    [Fact]
    public void Transform_finds_columns_by_name_in_any_order_and_names_absent_ones()
    {
        var dd = TabularDatasets.FromTable(WithGaps(), new TabularOptions("y") { MissingValue = MissingValuePolicy.Drop });
        var p = dd.Processor!;
        var shuffled = new TabularTable(["COLOR", "extra", "a", "id"], [["blue", "zzz", "6", Id(5)], ["red", "zzz", "9", Id(8)]]);
        using var x = p.Transform(shuffled);
        Assert.Equal([2L, p.Width], x.shape);
        Assert.Equal(Encode(p, Id(5), "6", "blue"), x[0].data<float>().ToArray());
        Assert.Equal(Encode(p, Id(8), "9", "red"), x[1].data<float>().ToArray());

        var error = Assert.Throws<TabularDataException>(() => p.Transform(new TabularTable(["id", "a"], [[Id(0), "1"]])));
        Assert.Contains("no column 'color'", error.Message);
        Assert.Equal("color", error.Column);

        error = Assert.Throws<TabularDataException>(() => p.Transform(new TabularTable(["id", "a", "color"], [[Id(0), "1", "red"], [Id(1), "2", "green"]])));
        Assert.Equal(2, error.Row);
    }

    // ---------------------------------------------------------------- regression and task inference

    [Fact]
    public void A_regression_target_is_standardised_with_the_train_mean_and_std()
    {
        double Y(int i) => 1000 + i * 12.5 + (i % 4) * 0.75;
        var rows = Enumerable.Range(0, 25).Select(i => new object?[] { Id(i), $"{i % 5}", Y(i).ToString("R", CultureInfo.InvariantCulture) }).ToList();
        var dd = TabularDatasets.FromTable(new TabularTable(["id", "x", "price"], rows), new TabularOptions("price") { Seed = 11, Categories = ["id"] });
        var target = dd.Target!;
        Assert.Equal(TaskKind.Regression, target.Task);
        Assert.Equal("price", target.Name);
        Assert.Empty(target.Classes);
        Assert.Equal(1, target.OutputSize);

        var train = RowsOf(dd["train"].Tensors(), dd.Processor!);
        var trainY = train.Select(Y).ToList();
        Assert.Equal(Mean(trainY), target.Mean, 9);
        Assert.Equal(PopulationStd(trainY), target.Std, 9);

        foreach (var split in new[] { dd["train"].Tensors(), dd["valid"].Tensors() })
        {
            Assert.Equal(ScalarType.Float32, split.Y.dtype);
            Assert.Equal([split.Count, 1L], split.Y.shape);
            var ids = RowsOf(split, dd.Processor!);
            var y = split.Y.data<float>().ToArray();
            for (int i = 0; i < ids.Length; i++) Assert.Equal((float)((Y(ids[i]) - target.Mean) / target.Std), y[i], 5);
        }

        // Its metrics read in the target's units once scaled by its std: an error of 1 standardised unit is one std.
        var metrics = MetricNames.ForTarget(target).ToList();
        Assert.Equal(["Rmse", "Mae"], metrics.Select(m => m.Key));
        using var preds = tensor(new float[] { 1, -1, 0.5f, -0.5f }, [4, 1]);
        using var targets = zeros(4, 1);
        foreach (var (name, metric) in metrics)
        {
            var inUnits = Assert.IsAssignableFrom<IMetricInTargetUnits>(metric);
            metric.Update(preds, targets);
            double standardised = name == "Rmse" ? Math.Sqrt(2.5 / 4) : 3.0 / 4;
            Assert.Equal(standardised, metric.Compute(), 6);
            inUnits.Scale = target.Std;
            Assert.Equal(standardised * target.Std, metric.Compute(), 4);
        }
    }

    [Fact]
    public void A_classification_target_is_judged_by_accuracy_and_F1()
    {
        var metrics = MetricNames.ForTarget(TargetSpec.Classification("t", ["a", "b", "c"])).ToList();
        Assert.Equal(["Accuracy", "F1"], metrics.Select(m => m.Key));
        Assert.IsType<MulticlassAccuracy>(metrics[0].Value);
        Assert.IsType<MacroF1>(metrics[1].Value);

        // F1 averages the classes: targets [0,0,0,1], predictions [0,0,1,1] → class 0: 2·2/(3+2) = 0.8; class 1: 2·1/(1+2) = 2/3.
        var f1 = new MacroF1();
        using var preds = tensor(new float[] { 1, 0, 1, 0, 0, 1, 0, 1 }, [4, 2]);
        using var targets = tensor(new long[] { 0, 0, 0, 1 });
        f1.Update(preds, targets);
        Assert.Equal((0.8 + 2.0 / 3) / 2, f1.Compute(), 12);
    }

    [Theory]
    [InlineData(new object[] { "1.5", "2", "3" }, TaskKind.Regression)]
    [InlineData(new object[] { "1", "2", "3", "2", "1" }, TaskKind.Classification)]
    [InlineData(new object[] { "a", "b", "a" }, TaskKind.Classification)]
    [InlineData(new object[] { "1", "2", "x" }, TaskKind.Classification)]
    [InlineData(new object[] { 1.0, 2.0, 3.0 }, TaskKind.Classification)]
    [InlineData(new object[] { 0.25, 2.0 }, TaskKind.Regression)]
    public void Task_is_inferred_from_the_target_values(object[] values, TaskKind expected) =>
        Assert.Equal(expected, TabularDatasets.InferTask(values));

    [Fact]
    public void Many_distinct_whole_numbers_are_a_regression_target_and_few_are_classes()
    {
        var few = Enumerable.Range(0, TabularDatasets.MaxInferredClasses).Select(i => (object?)$"{i * 100}");
        var many = Enumerable.Range(0, TabularDatasets.MaxInferredClasses + 1).Select(i => (object?)$"{i * 100}");
        Assert.Equal(TaskKind.Classification, TabularDatasets.InferTask(few));
        Assert.Equal(TaskKind.Regression, TabularDatasets.InferTask(many));
    }

    [Fact]
    public void The_task_option_overrides_inference_and_a_text_regression_target_is_an_error()
    {
        var rows = Enumerable.Range(0, 10).Select(i => new object?[] { $"{i}", $"{i % 3}" }).ToList();
        var table = new TabularTable(["x", "y"], rows);
        Assert.Equal(TaskKind.Classification, TabularDatasets.FromTable(table, new TabularOptions("y")).Target!.Task);
        var dd = TabularDatasets.FromTable(table, new TabularOptions("y") { Task = TaskKind.Regression });
        Assert.Equal(TaskKind.Regression, dd.Target!.Task);

        rows[6][1] = "many";
        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(new TabularTable(["x", "y"], rows), new TabularOptions("y") { Task = TaskKind.Regression }));
        Assert.Contains("Row 7", error.Message);
        Assert.Contains("'many' is not a number", error.Message);
        Assert.Equal(7, error.Row);
    }

    // ---------------------------------------------------------------- option errors

    [Fact]
    public void An_unknown_target_column_is_an_error_listing_the_columns()
    {
        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(ThreeClasses(), new TabularOptions("species")));
        Assert.Contains("no column 'species'", error.Message);
        Assert.Contains("id, x, label", error.Message);
        Assert.Equal("species", error.Column);
    }

    [Fact]
    public void Feature_list_errors_name_the_feature()
    {
        var table = ThreeClasses();
        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(table, new TabularOptions("label") { Features = ["x", "weight"] }));
        Assert.Contains("no feature column 'weight'", error.Message);
        Assert.Contains("id, x, label", error.Message);
        Assert.Equal("weight", error.Column);

        error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(table, new TabularOptions("label") { Features = ["x", "Label"] }));
        Assert.Contains("'Label' is the target", error.Message);

        error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(table, new TabularOptions("label") { Features = ["x", "X"] }));
        Assert.Contains("listed twice", error.Message);

        error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(table, new TabularOptions("label") { Features = [] }));
        Assert.Contains("empty", error.Message);

        error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(new TabularTable(["label"], [["a"], ["b"]]), new TabularOptions("label")));
        Assert.Contains("no column besides the target", error.Message);
    }

    [Fact]
    public void A_single_class_is_an_error()
    {
        var rows = Enumerable.Range(0, 6).Select(i => new object?[] { $"{i}", "same" }).ToList();
        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(new TabularTable(["x", "y"], rows), new TabularOptions("y")));
        Assert.Contains("only one class ('same')", error.Message);
    }

    [Fact]
    public void The_dataset_carries_its_processor_and_target()
    {
        var dd = TabularDatasets.FromTable(ThreeClasses(), new TabularOptions("label"));
        Assert.NotNull(dd.Processor);
        Assert.Same(dd.Processor!.Target, dd.Target);
        Assert.Equal(dd.Processor.Width, (int)dd["train"].Tensors().X.shape[1]);
        Assert.Equal(ScalarType.Float32, dd["train"].Tensors().X.dtype);

        // Tensors carry a target when one is given; a processor's target wins over it.
        using var x = zeros(4, 2);
        using var y = zeros(4, dtype: ScalarType.Int64);
        var fromTensors = DatasetDict.FromTensors((x, y), (x, y), TargetSpec.Classification("t", ["n", "m"]));
        Assert.Equal(TargetSpec.Classification("t", ["n", "m"]), fromTensors.Target);
        Assert.Null(fromTensors.Processor);
        Assert.Equal(["train", "valid"], fromTensors.Keys);
        fromTensors.WithProcessor(dd.Processor);
        Assert.Same(dd.Processor.Target, fromTensors.Target);
    }

    // ---------------------------------------------------------------- values that are not what the column is

    /// <summary>Twelve rows: an id, a column "n" of numbers (1.5, 2.5, …) with <paramref name="odd"/> at row 6, and a class.</summary>
    private static TabularTable NumbersWith(object? odd, int oddRow = 6) => new(["id", "n", "y"],
        Enumerable.Range(0, 12).Select(i => new object?[] { Id(i), i == oddRow - 1 ? odd : $"{i}.5", i % 2 == 0 ? "even" : "odd" }).ToList());

    [Theory]
    [InlineData("abc", "'abc' is not a number")]
    [InlineData("Infinity", "'Infinity' is not a finite number")]
    [InlineData("-Infinity", "'-Infinity' is not a finite number")]
    [InlineData("1e400", "'1e400' is not a finite number")]
    [InlineData("3,5", "'3,5' is not a number: numbers are read in the invariant culture, with a decimal point (3.5)")]
    public void One_value_that_is_not_a_number_in_a_column_of_numbers_is_an_error_naming_column_row_and_value(string odd, string expected)
    {
        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(NumbersWith(odd), new TabularOptions("y")));
        Assert.StartsWith($"Row 6, column 'n': {expected}", error.Message);
        Assert.Contains("11 of the column's 12 values are numbers", error.Message);
        Assert.Contains("Categories", error.Message); // what to do if the column really holds categories
        Assert.Equal("n", error.Column);
        Assert.Equal(6, error.Row);
    }

    [Fact]
    public void An_infinite_double_is_never_a_number_and_a_NaN_double_is_a_missing_value()
    {
        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(NumbersWith(double.PositiveInfinity, 3), new TabularOptions("y")));
        Assert.StartsWith("Row 3, column 'n': 'Infinity' is not a finite number", error.Message);
        error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(NumbersWith(double.NaN, 3), new TabularOptions("y")));
        Assert.StartsWith("Row 3 has no value for 'n'", error.Message);
        var filled = TabularDatasets.FromTable(NumbersWith("NaN", 3), new TabularOptions("y") { MissingValue = MissingValuePolicy.Mean });
        Assert.Equal(FeatureKind.Numeric, filled.Processor!.Features[1].Kind);
    }

    [Fact]
    public void Decimal_commas_under_de_DE_are_an_error_not_198_categories_or_classes()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            // As Export-Csv writes doubles under de-DE: a decimal comma where there is a fraction, none where there is not.
            var rows = Enumerable.Range(0, 200).Select(i => new object?[] { (i * 0.25 + 1).ToString(CultureInfo.CurrentCulture), i % 3 == 0 ? "a" : "b", (i * 1.5).ToString(CultureInfo.CurrentCulture) }).ToList();
            var table = new TabularTable(["x", "c", "y"], rows);
            var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(table, new TabularOptions("y")));
            Assert.StartsWith("Row 2, column 'y': '1,5' is not a number: numbers are read in the invariant culture, with a decimal point (1.5)", error.Message);
            error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(table, new TabularOptions("c")));
            Assert.StartsWith("Row 2, column 'x': '1,25' is not a number", error.Message);
        }
        finally { CultureInfo.CurrentCulture = saved; }
    }

    [Fact]
    public void A_column_named_among_the_categories_is_read_as_categories_with_a_warning_naming_the_odd_value()
    {
        var logger = new RecordingLogger();
        var dd = TabularDatasets.FromTable(NumbersWith("abc"), new TabularOptions("y") { Categories = ["N"] }, logger);
        Assert.Equal(FeatureKind.Category, dd.Processor!.Features[1].Kind);
        Assert.Equal(12, dd.Processor.Features[1].Categories.Count);
        Assert.Equal("Row 6, column 'n': 'abc' is not a number, yet 11 of the column's 12 values are; the column is read as categories, as asked.", Assert.Single(logger.Warnings));

        // Numbers alone as categories (codes, say) need no warning; a column that is not a feature cannot be one.
        logger = new RecordingLogger();
        dd = TabularDatasets.FromTable(NumbersWith("7.5"), new TabularOptions("y") { Categories = ["n"] }, logger);
        Assert.Equal(FeatureKind.Category, dd.Processor!.Features[1].Kind);
        Assert.Empty(logger.Warnings);
        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(NumbersWith("7.5"), new TabularOptions("y") { Features = ["id"], Categories = ["n"] }));
        Assert.Contains("'n' is named as a category column but is not a feature", error.Message);
    }

    [Fact]
    public void Text_with_a_few_numbers_among_it_is_still_a_category_column()
    {
        var rows = Enumerable.Range(0, 12).Select(i => new object?[] { i % 4 == 0 ? "1" : new[] { "S", "M", "L" }[i % 3], i % 2 == 0 ? "a" : "b" }).ToList();
        var dd = TabularDatasets.FromTable(new TabularTable(["size", "y"], rows), new TabularOptions("y"));
        Assert.Equal(FeatureKind.Category, dd.Processor!.Features[0].Kind);
    }

    [Fact]
    public void A_numeric_target_with_one_text_value_is_an_error_unless_classes_are_asked_for_which_warns()
    {
        var rows = Enumerable.Range(0, 40).Select(i => new object?[] { $"{i}", i == 9 ? "abc" : $"{i % 8 * 1.5}" }).ToList();
        var table = new TabularTable(["x", "y"], rows);
        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(table, new TabularOptions("y")));
        Assert.StartsWith("Row 10, column 'y': 'abc' is not a number", error.Message);
        Assert.EndsWith("39 of the column's 40 values are numbers: correct the value, or use Task Classification to predict the column as a class.", error.Message);
        Assert.Equal("y", error.Column);
        var logger = new RecordingLogger();
        var dd = TabularDatasets.FromTable(table, new TabularOptions("y") { Task = TaskKind.Classification }, logger);
        Assert.Equal(9, dd.Target!.Classes.Count); // eight numbers and 'abc'
        Assert.StartsWith("Row 10, column 'y': 'abc' is not a number, yet 39", Assert.Single(logger.Warnings));
    }

    [Fact]
    public void Values_beyond_float32_are_an_error_naming_column_and_row_in_a_feature_and_a_target()
    {
        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(NumbersWith("1e308", 4), new TabularOptions("y")));
        Assert.StartsWith("Row 4, column 'n': 1e308 is beyond the range of float32", error.Message);
        Assert.Equal(4, error.Row);

        var rows = Enumerable.Range(0, 30).Select(i => new object?[] { $"{i}", i == 7 ? -1e39 : i * 1.5 }).ToList();
        error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(new TabularTable(["x", "y"], rows), new TabularOptions("y")));
        Assert.StartsWith("Row 8, column 'y': -1E+39 is beyond the range of float32", error.Message);
    }

    [Fact]
    public void Statistics_of_the_largest_float32_values_are_finite_and_standardise_them_within_float32()
    {
        // Squares of 3e38 overflow float32 (and a naive float sum), not the scaled double statistics.
        var rows = Enumerable.Range(0, 40).Select(i => new object?[] { i % 2 == 0 ? "3e38" : "-3.2e38", i % 2 == 0 ? "a" : "b" }).ToList();
        var dd = TabularDatasets.FromTable(new TabularTable(["n", "y"], rows), new TabularOptions("y"));
        var n = dd.Processor!.Features[0];
        Assert.True(double.IsFinite(n.Mean) && double.IsFinite(n.Std), $"mean {n.Mean}, std {n.Std}");
        Assert.Equal(-0.1e38, n.Mean, 1e24);
        Assert.Equal(3.1e38, n.Std, 1e24);
        using var finite = dd["train"].Tensors().X.isfinite().all();
        Assert.True(finite.item<bool>());
    }

    [Fact]
    public void Encoding_refuses_a_value_beyond_float32_raw_or_standardised_so_no_infinity_reaches_the_model()
    {
        // Numbers a thousandth apart: a std of about 0.003.
        var rows = Enumerable.Range(0, 12).Select(i => new object?[] { $"{i}e-3", i % 2 == 0 ? "a" : "b" }).ToList();
        var p = TabularDatasets.FromTable(new TabularTable(["n", "y"], rows), new TabularOptions("y")).Processor!;
        var row = new float[p.Width];
        var error = Assert.Throws<TabularDataException>(() => p.EncodeRow([1e39], 3, row));
        Assert.StartsWith("Row 3, column 'n': 1E+39 is beyond the range of float32", error.Message);
        error = Assert.Throws<TabularDataException>(() => p.EncodeRow(["3e38"], 4, row)); // within float32, but some 1e41 standard deviations out
        Assert.Contains("once standardised with the training mean and std", error.Message);
        error = Assert.Throws<TabularDataException>(() => p.EncodeRow(["Infinity"], 5, row));
        Assert.StartsWith("Row 5, column 'n': 'Infinity' is not a finite number", error.Message);
    }

    [Fact]
    public void Predictions_of_a_NaN_or_infinite_output_are_an_error_naming_the_sample_never_a_NaN_probability()
    {
        var predictor = new Inference.Predictor(nn.Identity(), TargetSpec.Classification("t", ["a", "b"]));
        using var outputs = tensor(new float[] { 1, 2, float.NaN, 0, 3, 4, 0, float.PositiveInfinity }, [4, 2]);
        var error = Assert.Throws<InvalidOperationException>(() => predictor.Decode(outputs));
        Assert.StartsWith("The model's output for sample 2 (of 4; 2 samples in all) is not a finite number", error.Message);
        var regression = new Inference.Predictor(nn.Identity(), TargetSpec.Regression("t", 5, 2));
        using var one = tensor(new float[] { 1, float.NaN }, [2, 1]);
        Assert.StartsWith("The model's output for sample 2 (of 2)", Assert.Throws<InvalidOperationException>(() => regression.Decode(one)).Message);
        using var fine = tensor(new float[] { 1, 2 }, [1, 2]);
        Assert.Equal("b", predictor.Decode(fine)[0].Value);
    }

    [Fact]
    public void Rows_encoded_one_by_one_predict_as_the_table_does_and_the_batch_reads_as_its_predictions()
    {
        var rows = Enumerable.Range(0, 60).Select(i => new object?[] { $"{i * 0.25}", i % 3 == 0 ? "a" : "b", (long)(i % 2 + 5) }).ToList();
        var table = new TabularTable(["n", "c", "y"], rows);
        var data = TabularDatasets.FromTable(table, new TabularOptions("y"));
        var processor = data.Processor!;
        manual_seed(3);
        var predictor = new Inference.Predictor(nn.Sequential(nn.Linear(processor.Width, 2)), processor: processor);
        var encoded = new float[rows.Count * processor.Width];
        for (int r = 0; r < rows.Count; r++) processor.EncodeRow(rows[r][..2], r + 1, encoded.AsSpan(r * processor.Width, processor.Width));
        var batch = predictor.PredictEncodedRows(encoded, batchSize: 7);
        var fromTable = predictor.Predict(new TabularTable(["n", "c"], rows.Select(r => r[..2]).ToList()));
        Assert.Equal(rows.Count, batch.Count);
        for (int r = 0; r < rows.Count; r++)
        {
            Assert.Equal(fromTable[r].Probabilities!.Values, batch.Values(r).ToArray());
            Assert.Equal(fromTable[r].Probability, batch.Probability(r));
            Assert.Equal(fromTable[r].Value, batch.Value(r));
            Assert.IsType<long>(batch.Value(r)); // whole-number labels come back as such, one box per class shared by the rows
            Assert.Same(batch.Value(r), data.Target!.Label(batch.ClassIndex(r)!.Value));
        }
        Assert.Contains("are not whole rows", Assert.Throws<ArgumentException>(() => predictor.PredictEncodedRows(encoded.AsSpan(1))).Message);
        Assert.Equal(0, predictor.PredictEncodedRows([]).Count);
    }

    [Fact]
    public void A_prediction_batch_reads_numbers_in_the_target_units_and_raw_outputs_as_the_per_sample_predictions()
    {
        using var outputs = tensor(new float[] { 1, -2, 0.5f, 3 }, [2, 2]);
        var raw = new Inference.Predictor(nn.Identity()).DecodeBatch(outputs);
        Assert.Equal(new double[] { 0.5, 3 }, Assert.IsType<double[]>(raw.Value(1)));
        Assert.Null(raw.Probability(1));
        Assert.Null(raw.ClassIndex(1));
        Assert.Equal(new double[] { 1, -2 }, raw[0].Value);

        using var one = tensor(new float[] { 1, -0.5f }, [2, 1]);
        var regression = new Inference.Predictor(nn.Identity(), TargetSpec.Regression("t", 5, 2)).DecodeBatch(one);
        Assert.Equal(7.0, regression.Value(0)); // 1 × 2 + 5, in the target's units
        Assert.Equal(4.0, regression.Values(1).Span[0]);
        Assert.Null(regression.Probability(0));
        Assert.Equal(regression.Value(1), regression[1].Value);

        using var none = zeros(0, 3);
        Assert.Equal(0, new Inference.Predictor(nn.Identity(), TargetSpec.Classification("t", ["a", "b", "c"])).DecodeBatch(none).Count);
    }

    [Fact]
    public void Columns_differing_only_in_case_are_refused_naming_both_never_merged()
    {
        var records = new[]
        {
            new Dictionary<string, object?>(StringComparer.Ordinal) { ["Age"] = 1, ["age"] = 2, ["y"] = "a" },
            new Dictionary<string, object?>(StringComparer.Ordinal) { ["Age"] = 3, ["age"] = 4, ["y"] = "b" },
        };
        var error = Assert.Throws<TabularDataException>(() => TabularTable.FromRecords(records));
        Assert.Equal("The columns 'Age' and 'age' differ only in case; columns are matched ignoring case, so they would be one. Rename one of them.", error.Message);
        Assert.Equal("age", error.Column);
        // Across records, as PowerShell's property names, one column: see FromRecords_takes_columns_in_first_seen_order….
    }

    // ---------------------------------------------------------------- many categories

    private static TabularTable ManyCategories(int categories, int rows) => new(["code", "y"],
        Enumerable.Range(0, rows).Select(i => new object?[] { $"c{i % categories}", i % 2 == 0 ? "a" : "b" }).ToList());

    [Fact]
    public void A_one_hot_category_column_beyond_the_limit_is_refused_naming_the_column_its_count_and_embeddings()
    {
        // Named as a feature, so that it is not left out as ID-like first.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(ManyCategories(50_000, 50_000), new TabularOptions("y") { Features = ["code"] }));
        Assert.Equal($"The column 'code' has 50000 categories, one per row as an ID has; a one-hot category column takes at most {TabularDatasets.MaxCategories}, one model input each. Leave the column out (name the features to use), group its values into fewer categories, or use CategoryEncoding Embedding (one input, looked up in a learnt embedding).", error.Message);
        Assert.Equal("code", error.Column);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"refused after {clock.Elapsed}");
        error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(ManyCategories(TabularDatasets.MaxCategories + 1, 3000), new TabularOptions("y")));
        Assert.StartsWith($"The column 'code' has {TabularDatasets.MaxCategories + 1} categories; a one-hot category column takes at most", error.Message);
        // Embedded, the same column is one input; beyond the embedding limit it is refused too.
        var embedded = TabularDatasets.FromTable(ManyCategories(TabularDatasets.MaxCategories + 1, 3000), new TabularOptions("y") { CategoryEncoding = CategoryEncoding.Embedding });
        Assert.Equal(1, embedded.Processor!.Width);
        error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(ManyCategories(TabularDatasets.MaxEmbeddingCategories + 1, TabularDatasets.MaxEmbeddingCategories + 1),
            new TabularOptions("y") { Features = ["code"], CategoryEncoding = CategoryEncoding.Embedding }));
        Assert.StartsWith($"The column 'code' has {TabularDatasets.MaxEmbeddingCategories + 1} categories, one per row as an ID has; an embedded category column takes at most {TabularDatasets.MaxEmbeddingCategories}.", error.Message);
    }

    [Fact]
    public void At_the_limit_the_encoding_is_one_hot_rows_times_categories_held_once()
    {
        var dd = TabularDatasets.FromTable(ManyCategories(TabularDatasets.MaxCategories, 4000), new TabularOptions("y"));
        var p = dd.Processor!;
        Assert.Equal(TabularDatasets.MaxCategories, p.Width);
        var x = dd["train"].Tensors().X;
        using var sums = x.sum(1);
        using var ones = sums.eq(1).all();
        Assert.True(ones.item<bool>());
        // An unknown category's error lists the first 20 known ones, not a thousand.
        var error = Assert.Throws<TabularDataException>(() => p.EncodeRow(["zzz"], 1, new float[p.Width]));
        Assert.EndsWith($"and {TabularDatasets.MaxCategories - 20} more.", error.Message);
    }

    // ---------------------------------------------------------------- the penguins

    [Fact]
    public void Penguins_with_Drop_keep_333_rows_and_three_species()
    {
        Assert.True(File.Exists(PenguinsPath), $"{PenguinsPath} should be copied beside the tests");
        Assert.Equal(Path.GetFullPath(PenguinsPath), Path.GetFullPath(PalmerPenguins.CsvPath));
        var table = PalmerPenguins.Load();
        Assert.Equal(344, table.Rows.Count);
        Assert.Equal(["species", "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year"], table.Columns);

        var logger = new RecordingLogger();
        var dd = TabularDatasets.FromTable(table, new TabularOptions("species") { MissingValue = MissingValuePolicy.Drop }, logger);
        Assert.Equal(333, dd["train"].Count + dd["valid"].Count);
        Assert.Equal(TaskKind.Classification, dd.Target!.Task);
        Assert.Equal(["Adelie", "Chinstrap", "Gentoo"], dd.Target.Classes);
        Assert.Contains("Left out 11 of 344 rows", Assert.Single(logger.Warnings));

        var p = dd.Processor!;
        Assert.Equal(["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year"], p.FeatureNames);
        Assert.Equal(["Biscoe", "Dream", "Torgersen"], p.Features[0].Categories);
        Assert.Equal(["female", "male"], p.Features[5].Categories);
        Assert.Equal(3 + 4 + 2 + 1, p.Width);
        using var finite = dd["train"].Tensors().X.isfinite().all();
        Assert.True(finite.item<bool>());
        using var labels = cat([dd["train"].Tensors().Y, dd["valid"].Tensors().Y]);
        using var counts = labels.bincount(null);
        Assert.Equal([146L, 68, 119], counts.data<long>().ToArray()); // per species, complete rows
    }

    [Fact]
    public void Penguins_by_default_fail_on_the_first_missing_value()
    {
        var table = TabularTable.ReadCsv(PenguinsPath);
        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(table, new TabularOptions("species")));
        Assert.StartsWith("Row 4 has no value for 'bill_length_mm'", error.Message);
        Assert.Contains("11 of 344 rows", error.Message);
        Assert.Contains("sex (11)", error.Message);
    }

    [Fact]
    public void Penguin_body_mass_is_a_regression_target()
    {
        var table = TabularTable.ReadCsv(PenguinsPath);
        var dd = TabularDatasets.FromTable(table, new TabularOptions("body_mass_g") { MissingValue = MissingValuePolicy.Drop });
        Assert.Equal(TaskKind.Regression, dd.Target!.Task); // whole numbers, but far more than 20 distinct ones
        Assert.InRange(dd.Target.Mean, 3500, 5000);
        Assert.InRange(dd.Target.Std, 500, 1100);
        Assert.Contains("species", dd.Processor!.FeatureNames);
    }
}
