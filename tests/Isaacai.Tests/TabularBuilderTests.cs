using System.Globalization;
using Isaacai.Data.Tabular;

namespace Isaacai.Tests;

/// <summary>Rows gathered one at a time (objects from PowerShell's pipeline), held by column, numbers as numbers.</summary>
public sealed class TabularBuilderTests
{
    private static readonly string[] Header = ["x", "code", "mixed", "big", "label"];

    /// <summary>Row <paramref name="i"/> as Import-Csv gives it: every value text.</summary>
    private static string[] Row(int i) => [
        i % 17 == 3 ? "" : i % 23 == 5 ? "NA" : (i * 0.37 - 11.5).ToString("R", CultureInfo.InvariantCulture),
        i % 2 == 0 ? "1.50" : "2",
        i < 3 ? "7" : $"t{i % 4}",
        i == 5 ? "1e39" : $"{i * 1.25e3:0.###}",
        (i % 3 + 4).ToString(CultureInfo.InvariantCulture),
    ];

    private static TabularTable.Builder Gather(int rows, IEnumerable<string>? numbersExcept)
    {
        var builder = new TabularTable.Builder(numbersExcept);
        for (int i = 0; i < rows; i++) builder.Add(Header, Row(i));
        return builder;
    }

    [Fact]
    public void Columns_of_numbers_are_held_as_numbers_and_the_others_as_given()
    {
        var table = Gather(40, ["label", "code"]).ToTable();
        Assert.Equal(Header, table.Columns);
        var x = table.Numbers(0);
        Assert.NotNull(x);
        Assert.Equal(-11.5 + 0.37, x[1]);
        Assert.True(double.IsNaN(x[3]) && double.IsNaN(x[5])); // blank and NA
        Assert.Null(table[3, 0]);
        // Named to stay as given: "1.50" is a category's name, not 1.5.
        Assert.Null(table.Numbers(1));
        Assert.Equal("1.50", table[0, 1]);
        // Numbers first, then text: every cell as given, the numbers' too.
        Assert.Null(table.Numbers(2));
        Assert.Equal("7", table[0, 2]);
        // A number beyond float32 keeps the column as given, so that its error shows the value as written.
        Assert.Null(table.Numbers(3));
        Assert.Equal("1e39", table[5, 3]);
        Assert.Null(table.Numbers(4));
        Assert.Equal("4", table[0, 4]);

        // Without numbersExcept, as FromRecords, every value stays as given.
        var asGiven = Gather(40, null).ToTable();
        Assert.Null(asGiven.Numbers(0));
        Assert.Equal("-11.13", asGiven[1, 0]);
    }

    [Theory]
    [InlineData(MissingValuePolicy.Mean)]
    [InlineData(MissingValuePolicy.Drop)]
    public void Rows_of_several_shapes_make_the_dataset_that_the_rows_as_given_make_bit_for_bit(MissingValuePolicy missing)
    {
        // Over two blocks of rows; some rows lack x, some give their properties in another order or spelling, and
        // the column "extra" first appears late.
        const int rows = 9000;
        var records = new List<Dictionary<string, object?>>();
        for (int i = 0; i < rows; i++)
        {
            var row = Row(i);
            var record = new Dictionary<string, object?>();
            var order = i % 5 == 1 ? Enumerable.Range(0, Header.Length).Reverse() : Enumerable.Range(0, Header.Length);
            foreach (var c in order)
                if (!(c == 0 && i % 7 == 2)) record[i % 11 == 4 ? Header[c].ToUpperInvariant() : Header[c]] = row[c];
            if (i >= 5000) record["extra"] = (i % 9).ToString(CultureInfo.InvariantCulture);
            records.Add(record);
        }
        var builder = new TabularTable.Builder(["label", "code"]);
        foreach (var record in records) builder.Add(record);
        var held = builder.ToTable();
        Assert.Equal([.. Header, "extra"], held.Columns);
        Assert.Equal(rows, held.RowCount);
        Assert.NotNull(held.Numbers(5));
        Assert.True(double.IsNaN(held.Numbers(5)![4999]) && held.Numbers(5)![5000] == 5000 % 9);
        Assert.True(double.IsNaN(held.Numbers(0)![2])); // absent
        Assert.Null(held[2, 0]);

        var options = new TabularOptions("label") { Categories = ["code"], MissingValue = missing, Features = ["x", "code", "mixed", "extra"] };
        var expected = TabularDatasets.FromTable(TabularTable.FromRecords(records), options);
        TabularFileTests.AssertSame(expected, TabularDatasets.FromTable(held, options));
        // And as the same values held row by row, with no codes and no numbers.
        TabularFileTests.AssertSame(expected, TabularDatasets.FromTable(new TabularTable(held.Columns, held.Rows.ToList()), options));
    }

    [Fact]
    public void Text_is_held_as_codes_until_a_value_that_is_not_text_comes_and_numbers_turn_to_codes_at_their_first_text()
    {
        string[] names = ["n", "label", "c"];
        var builder = new TabularTable.Builder(["label"]);
        for (int i = 0; i < 5000; i++)
            builder.Add(names, [i < 4500 ? $"{i}" : i == 4900 ? true : "x", i == 4800 ? 7L : $"L{i % 3}", i % 2 == 0 ? "a" : null]);
        var table = builder.ToTable();
        // Numbers, then text past the first block (held as codes), then a value that is not text: every cell as given.
        Assert.Null(table.Numbers(0));
        Assert.Equal("17", table[17, 0]);
        Assert.Equal("x", table[4600, 0]);
        Assert.Equal(true, table[4900, 0]);
        Assert.Equal("x", table[4999, 0]);
        // Text (held as codes) until a number came: every cell as given.
        Assert.Equal("L2", table[5, 1]);
        Assert.Equal(7L, table[4800, 1]);
        // Text and missing values.
        Assert.True(table.IsMissing(1, 2));
        Assert.Equal("a", table[4998, 2]);

        var options = new TabularOptions("label") { Features = ["c"], MissingValue = MissingValuePolicy.Mode };
        TabularFileTests.AssertSame(TabularDatasets.FromTable(new TabularTable(table.Columns, table.Rows.ToList()), options), TabularDatasets.FromTable(table, options));
    }

    [Fact]
    public void A_row_with_two_names_that_differ_only_in_case_is_refused_also_after_rows_of_another_shape()
    {
        var builder = new TabularTable.Builder(["label"]);
        builder.Add(["Age", "label"], ["1", "a"]);
        var error = Assert.Throws<TabularDataException>(() => builder.Add(["Age", "label", "age"], ["1", "a", "2"]));
        Assert.Equal("The columns 'Age' and 'age' differ only in case; columns are matched ignoring case, so they would be one. Rename one of them.", error.Message);
        Assert.Equal("age", error.Column);
        Assert.Throws<ArgumentException>(() => builder.Add(["Age", "label"], ["1"]));
    }
}
