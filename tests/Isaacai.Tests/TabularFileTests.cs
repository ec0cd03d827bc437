using System.Globalization;
using System.Text;
using Isaacai.Data;
using Isaacai.Data.Tabular;
using Isaacai.Inference;
using Isaacai.Models;
using Parquet;
using Parquet.Schema;
using static TorchSharp.torch;

namespace Isaacai.Tests;

/// <summary>Tables read straight from CSV, TSV and Parquet files: the same datasets as from the same rows as text, and one clear error per bad file.</summary>
public sealed class TabularFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("isaacai-tabfile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string WriteFile(string content, string name)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }

    /// <summary>
    /// 120 rows: numbers (with blanks and NAs), a category holding commas and quotes, a code column of numbers
    /// written as "1.50" that is read as categories, a mostly-text column with a few numbers, and integer classes.
    /// </summary>
    private static string[][] Rows()
    {
        var rows = new List<string[]>();
        for (int i = 0; i < 120; i++)
            rows.Add([
                i % 17 == 3 ? "" : i % 23 == 5 ? "NA" : (i * 0.37 - 11.5).ToString("R", CultureInfo.InvariantCulture),
                (i % 3) switch { 0 => "red, dark", 1 => "say \"hi\"", _ => "plain" },
                i % 2 == 0 ? "1.50" : "2",
                i % 10 == 0 ? "7" : i % 5 == 0 ? "" : $"t{i % 4}",
                $"{i * 1.25e3:0.###}",
                (i % 3 + 4).ToString(CultureInfo.InvariantCulture),
            ]);
        return rows.ToArray();
    }

    private static readonly string[] Header = ["x", "colour", "code", "mixed", "big", "label"];

    private static string Quote(string field, char separator) =>
        field.IndexOfAny([separator, '"', '\n', '\r']) >= 0 ? $"\"{field.Replace("\"", "\"\"")}\"" : field;

    private string WriteSeparated(string name, char separator, string lineEnd = "\n") =>
        WriteFile(string.Join(lineEnd, new[] { Header }.Concat(Rows()).Select(r => string.Join(separator, r.Select(f => Quote(f, separator))))) + lineEnd, name);

    internal static void AssertSame(DatasetDict expected, DatasetDict actual)
    {
        Assert.Equal(expected.Processor!.Features, actual.Processor!.Features);
        Assert.Equal(expected.Processor.Target, actual.Processor.Target);
        foreach (var split in new[] { "train", "valid" })
        {
            var (e, a) = ((TensorDataset)expected[split], (TensorDataset)actual[split]);
            Assert.Equal(e.X.shape, a.X.shape);
            // Bit for bit: the same float32 patterns, not merely close values.
            Assert.Equal(e.X.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits), a.X.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(e.Y.data<long>().ToArray(), a.Y.data<long>().ToArray());
        }
    }

    [Theory]
    [InlineData(MissingValuePolicy.Mean)]
    [InlineData(MissingValuePolicy.Drop)]
    public void A_file_makes_the_dataset_that_its_rows_as_text_make_bit_for_bit(MissingValuePolicy missing)
    {
        var csv = WriteSeparated("data.csv", ',', "\r\n");
        var options = new TabularOptions("label") { Categories = ["code"], MissingValue = missing, Seed = 7 };
        // The rows as text, as Import-Csv gives them: every value a string.
        var asText = TabularTable.FromRecords(Rows().Select(r => (IReadOnlyDictionary<string, object?>)Header.Zip(r).ToDictionary(p => p.First, p => (object?)p.Second)));
        var fromObjects = TabularDatasets.FromTable(asText, options);
        var fromFile = TabularDatasets.FromFile(csv, options);
        AssertSame(fromObjects, fromFile);
        // The code column was read as written: "1.50" is a category, not 1.5.
        Assert.Equal(["1.50", "2"], fromFile.Processor!.Features.Single(f => f.Name == "code").Categories);
        // The mixed column met "7" before text, and was read again as written.
        Assert.Contains("7", fromFile.Processor.Features.Single(f => f.Name == "mixed").Categories);

        var fromTsv = TabularDatasets.FromFile(WriteSeparated("data.tsv", '\t'), options);
        AssertSame(fromObjects, fromTsv);
    }

    [Fact]
    public void Numbers_read_from_a_file_or_from_objects_text_are_the_doubles_double_parse_gives_bit_for_bit()
    {
        // Plain decimals of every length up to the reader's fast path and past it, negative zeros, leading zeros, and
        // the forms only double.Parse reads (exponents, a plus, blanks); each checked against double.Parse.
        var random = new Random(3);
        var texts = new List<string> { "-0", "-0.0000", "0", "007.50", "123456789012345", "1234567890123456", "0.000000000000001", "-999999999999999", "1e3", "+2.5", " 4.25 ", "2147483647", "-2147483647" };
        for (int i = 0; i < 4000; i++)
        {
            int digits = random.Next(1, 18), decimals = random.Next(0, digits);
            var number = string.Concat(Enumerable.Range(0, digits).Select(_ => (char)('0' + random.Next(10))));
            texts.Add((random.Next(2) == 0 ? "-" : "") + (decimals == 0 ? number : number.Insert(digits - decimals, ".")));
        }
        var csv = WriteFile("x,label\n" + string.Concat(texts.Select((t, i) => $"{t},{i % 2}\n")), "numbers.csv");
        var table = TabularFile.Read(csv, new TabularFileColumns { Text = ["label"] });
        Assert.NotNull(table.Numbers(0));
        for (int r = 0; r < texts.Count; r++)
        {
            long expected = BitConverter.DoubleToInt64Bits(double.Parse(texts[r], CultureInfo.InvariantCulture));
            Assert.Equal(expected, BitConverter.DoubleToInt64Bits((double)table[r, 0]!));
            // As Import-Csv's objects give the same text to preprocessing at prediction.
            Assert.True(TabularValues.TryNumber((object)texts[r], out var fromObject));
            Assert.Equal(expected, BitConverter.DoubleToInt64Bits(fromObject));
        }
    }

    [Fact]
    public void Numbers_held_as_whole_numbers_over_a_power_of_ten_make_the_same_dataset_as_objects()
    {
        // A column scaled up as more decimals come (with a negative zero and missing values), one that turns to doubles
        // at an exponent, one whose numbers outgrow an int once scaled, and one of whole numbers.
        string Cell(int i, int column) => column switch
        {
            0 => i % 13 == 4 ? "" : i == 7 ? "-0.0000" : (i % 4) switch { 0 => $"{i}", 1 => $"-{i}.5", 2 => $"{i}.25", _ => $"0.{i:000}" },
            1 => i == 50 ? "1.5e2" : $"{i % 9}.{i % 7}",
            2 => i == 30 ? "0.001" : $"{i * 7919 % 100_000 * 10_000}",
            3 => $"{i % 5 - 2}",
            _ => $"{i % 3}",
        };
        string[] header = ["a", "b", "c", "d", "label"];
        var rows = Enumerable.Range(0, 90).Select(i => Enumerable.Range(0, 5).Select(c => Cell(i, c)).ToArray()).ToList();
        var csv = WriteFile(string.Join("\n", new[] { header }.Concat(rows).Select(r => string.Join(",", r))) + "\n", "scaled.csv");
        var options = new TabularOptions("label") { MissingValue = MissingValuePolicy.Mean };
        var asText = TabularTable.FromRecords(rows.Select(r => (IReadOnlyDictionary<string, object?>)header.Zip(r).ToDictionary(p => p.First, p => (object?)p.Second)));
        AssertSame(TabularDatasets.FromTable(asText, options), TabularDatasets.FromFile(csv, options));
    }

    [Theory]
    [InlineData(TaskKind.Classification)]
    [InlineData(TaskKind.Regression)]
    public void Predictions_of_a_file_are_those_of_its_rows_as_text_chunk_after_chunk(TaskKind task)
    {
        Isaac.SetSeed(2);
        var csv = WriteSeparated("data.csv", ',');
        var options = new TabularOptions("label") { Categories = ["code"], MissingValue = MissingValuePolicy.Mean, Task = task };
        var processor = TabularDatasets.FromFile(csv, options).Processor!;
        var predictor = new Predictor(new Mlp(processor.Width, [8], task == TaskKind.Classification ? processor.Target.Classes.Count : 1), processor: processor);
        var output = Path.Combine(_folder, "predicted.csv");
        // Chunks of 7 rows: blanks and NAs filled in, quoted categories, text among numbers, across chunk edges.
        Assert.Equal(120, TabularFilePredictions.Predict(predictor, csv, output, chunkRows: 7));

        // The same rows as text, 7 at a time (the model's kernels may round differently for another number of rows).
        var expected = Rows().Chunk(7).SelectMany(chunk => predictor.Predict(
            TabularTable.FromRecords(chunk.Select(r => (IReadOnlyDictionary<string, object?>)Header.Zip(r).ToDictionary(p => p.First, p => (object?)p.Second))))).ToList();
        var written = TabularFile.Read(output, new TabularFileColumns { AllText = true });
        Assert.Equal([.. Header, "Prediction", .. task == TaskKind.Classification ? new[] { "Probability" } : []], written.Columns);
        for (int r = 0; r < 120; r++)
        {
            Assert.Equal(Rows()[r], Header.Select((_, c) => (string?)written[r, c]));
            var value = expected[r].Value is double number ? number.ToString("R", CultureInfo.InvariantCulture) : Convert.ToString(expected[r].Value, CultureInfo.InvariantCulture);
            Assert.Equal(value, written[r, Header.Length]);
            if (task == TaskKind.Classification) Assert.Equal(expected[r].Probability!.Value.ToString("R", CultureInfo.InvariantCulture), written[r, Header.Length + 1]);
        }
    }

    [Fact]
    public void A_bad_line_in_a_file_to_predict_is_one_error_naming_the_first_and_no_file()
    {
        var csv = WriteSeparated("data.csv", ',');
        var processor = TabularDatasets.FromFile(csv, new TabularOptions("label") { Categories = ["code"], MissingValue = MissingValuePolicy.Mean }).Processor!;
        var predictor = new Predictor(new Mlp(processor.Width, [8], processor.Target.Classes.Count), processor: processor);
        var lines = File.ReadAllLines(csv);
        var malformed = lines.ToArray();
        malformed[39] += ",extra"; // line 40: a field too many, which the reader (a chunk ahead) meets
        var output = Path.Combine(_folder, "never.csv");
        var error = Assert.Throws<InvalidDataException>(() => TabularFilePredictions.Predict(predictor, WriteFile(string.Join("\n", malformed) + "\n", "malformed.csv"), output, chunkRows: 8));
        Assert.Contains("line 40 has 7 fields; the header has 6", error.Message);
        Assert.False(File.Exists(output));

        // Text at line 13, in the second chunk of 8, comes first: it is the error, whatever the reader, chunks ahead, has met by then.
        malformed[12] = "oops" + lines[12][lines[12].IndexOf(',')..];
        var bad = WriteFile(string.Join("\n", malformed) + "\n", "bad.csv");
        error = Assert.Throws<InvalidDataException>(() => TabularFilePredictions.Predict(predictor, bad, output, chunkRows: 8));
        Assert.StartsWith($"{bad}, line 13: Row 12, column 'x': 'oops' is not a number", error.Message);
        Assert.False(File.Exists(output));

        // A file with none of the model's columns (a wrong file, or misspelt names) would be predicted from filled-in values alone.
        var elsewhere = WriteFile("a,b\n1,2\n3,4\n", "elsewhere.csv");
        var none = Assert.Throws<TabularDataException>(() => TabularFilePredictions.Predict(predictor, elsewhere, output));
        Assert.StartsWith($"{elsewhere}: none of this model's columns (", none.Message);
        Assert.EndsWith("The file's columns are: a, b.", none.Message);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void A_file_read_for_some_features_reads_only_those_columns()
    {
        var csv = WriteSeparated("data.csv", ',');
        var table = TabularFile.Read(csv, new TabularFileColumns { Only = ["label", "x"], Text = ["label"] });
        Assert.Equal(["x", "label"], table.Columns); // the file's order
        Assert.NotNull(table.Numbers(0)); // held as numbers
        Assert.Null(table.Numbers(1)); // the target as written
        Assert.Equal("4", table[0, 1]);

        var options = new TabularOptions("label") { Features = ["x"], MissingValue = MissingValuePolicy.Mean };
        var dataset = TabularDatasets.FromFile(csv, options);
        Assert.Equal(["x"], dataset.Processor!.FeatureNames);

        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromFile(csv, options with { Features = ["x", "colur"] }));
        Assert.Contains(csv, error.Message);
        Assert.Contains("no column 'colur'", error.Message);
        Assert.Contains("x, colour, code, mixed, big, label", error.Message);
    }

    private async Task<string> WriteParquet(string name, params (DataField Field, Array Values)[] columns)
    {
        var path = Path.Combine(_folder, name);
        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(columns.Select(c => (Field)c.Field).ToArray()), stream);
        using var group = writer.CreateRowGroup();
        foreach (var (field, values) in columns)
        {
            switch (values)
            {
                case string[] text: await group.WriteAsync(field, text); break;
                case double?[] numbers: await group.WriteAsync<double>(field, numbers.AsMemory()); break;
                case long[] integers: await group.WriteAsync<long>(field, integers.AsMemory()); break;
                case byte[][] blobs: await group.WriteAsync(field, blobs); break;
                default: throw new ArgumentException(values.GetType().Name);
            }
        }
        return path;
    }

    [Fact]
    public async Task A_parquet_file_makes_the_dataset_that_the_same_values_as_objects_make()
    {
        var x = Enumerable.Range(0, 60).Select(i => i % 11 == 2 ? (double?)null : i * 0.5 - 3).ToArray();
        var colour = Enumerable.Range(0, 60).Select(i => i % 3 == 0 ? "red" : "blue").ToArray();
        var label = Enumerable.Range(0, 60).Select(i => (long)(i % 2 + 5)).ToArray();
        var path = await WriteParquet("data.parquet",
            (new DataField<double?>("x"), x), (new DataField<string>("colour"), colour), (new DataField<long>("label"), label));

        var options = new TabularOptions("label") { MissingValue = MissingValuePolicy.Mean };
        var objects = new TabularTable(["x", "colour", "label"], Enumerable.Range(0, 60).Select(i => new object?[] { x[i], colour[i], label[i] }).ToList());
        var fromObjects = TabularDatasets.FromTable(objects, options);
        var fromFile = TabularDatasets.FromFile(path, options);
        AssertSame(fromObjects, fromFile);
        Assert.Equal(["5", "6"], fromFile.Processor!.Target.Classes);
    }

    [Fact]
    public async Task A_parquet_column_of_bytes_is_one_error_naming_the_file_and_column()
    {
        var path = await WriteParquet("blob.parquet",
            (new DataField<double>("x"), new double?[] { 1, 2 }), (new DataField<byte[]>("photo"), new byte[][] { [1], [2] }));
        var error = Assert.Throws<InvalidDataException>(() => TabularFile.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("'photo'", error.Message);
        Assert.Contains("numbers, text, booleans and dates", error.Message);
    }

    [Fact]
    public void Empty_and_damaged_files_are_one_error_each_naming_the_file()
    {
        var empty = WriteFile("", "empty.parquet");
        Assert.Contains($"{empty}: the file is empty", Assert.Throws<InvalidDataException>(() => TabularFile.Read(empty)).Message);
        var damaged = WriteFile("not parquet at all, just text", "damaged.parquet");
        Assert.Contains($"{damaged}: not a readable Parquet file", Assert.Throws<InvalidDataException>(() => TabularFile.Read(damaged)).Message);
        var emptyCsv = WriteFile("", "empty.csv");
        Assert.Contains($"{emptyCsv}: the file is empty", Assert.Throws<InvalidDataException>(() => TabularFile.Read(emptyCsv)).Message);
        var text = WriteFile("a,b\n1,2\n", "data.txt");
        Assert.Contains(".csv, .tsv, .parquet", Assert.Throws<InvalidDataException>(() => TabularFile.Read(text)).Message);
    }

    [Theory]
    [InlineData("a,b\n1,2\n3,x\"y\n", "line 3, column 'b': a stray quote")]
    [InlineData("a,b\n1,2\n3,\"x\"y\"\n", "line 3, column 'b': the quoted field opened here is never closed")]
    [InlineData("a,b\n1,2\n3,4,5\n", "line 3 has 3 fields; the header has 2")]
    [InlineData("a,b,a\n1,2,3\n", "line 1: the header names a column more than once")]
    public void A_malformed_line_is_one_error_naming_the_file_and_line(string content, string expected)
    {
        var path = WriteFile(content, "bad.csv");
        var error = Assert.Throws<InvalidDataException>(() => TabularDatasets.FromFile(path, new TabularOptions("b")));
        Assert.Contains($"{path}: {expected}", error.Message);
    }

    [Fact]
    public void A_number_column_with_a_typo_is_the_same_error_as_for_objects()
    {
        var rows = Enumerable.Range(0, 20).Select(i => $"{(i == 13 ? "1O" : i.ToString(CultureInfo.InvariantCulture))},{i % 2}");
        var path = WriteFile("x,y\n" + string.Join("\n", rows) + "\n", "typo.csv");
        var fromFile = Assert.Throws<TabularDataException>(() => TabularDatasets.FromFile(path, new TabularOptions("y")));
        var fromText = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(TabularTable.ReadCsv(path), new TabularOptions("y")));
        Assert.Equal(fromText.Message, fromFile.Message);
        Assert.Contains("Row 14, column 'x': '1O' is not a number", fromFile.Message);
    }

    [Fact]
    public void Whole_number_labels_come_back_as_their_type_and_a_manifest_that_lies_about_it_is_refused()
    {
        var rows = Enumerable.Range(0, 40).Select(i => new object?[] { i * 0.5, (long)(i % 2 + 5) }).ToList();
        var dataset = TabularDatasets.FromTable(new TabularTable(["x", "y"], rows), new TabularOptions("y"));
        Assert.Equal("System.Int64", dataset.Target!.LabelType);
        Assert.Equal(6L, Assert.IsType<long>(dataset.Target.Label(1)));
        var mixed = rows.Select((r, i) => new object?[] { r[0], i == 3 ? (object)6 : r[1] }).ToList(); // an int among longs
        Assert.Null(TabularDatasets.FromTable(new TabularTable(["x", "y"], mixed), new TabularOptions("y")).Target!.LabelType);

        Assert.Contains("is not a Int32", Assert.Throws<ArgumentException>(() => new TargetSpec("y", TaskKind.Classification, ["a", "b"], labelType: "System.Int32")).Message);
        Assert.Contains("whole numbers", Assert.Throws<ArgumentException>(() => new TargetSpec("y", TaskKind.Classification, ["1", "2"], labelType: "System.String")).Message);
        Assert.Equal("b", new TargetSpec("y", TaskKind.Classification, ["a", "b"]).Label(1));
    }
}
