using System.Globalization;
using System.Text.Json;
using Isaacai.Data.Tabular;
using Isaacai.Inference;
using Isaacai.Models;
using Isaacai.SavedModels;
using static TorchSharp.torch;

namespace Isaacai.Tests;

/// <summary>How categories, IDs and dates become inputs: embeddings' indices, the unknown slot, ID-like columns left out, date parts.</summary>
public sealed class CategoryEncodingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("isaacai-categories-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>60 rows: size (a number), colour (3 categories), city (12 categories, c00…c11), y (a class).</summary>
    private static TabularTable Cities() => new(["size", "colour", "city", "y"], Enumerable.Range(0, 60).Select(i => new object?[]
        { (double)(i % 9), new[] { "red", "green", "blue" }[i % 3], $"c{i % 12:D2}", i % 2 == 0 ? "a" : "b" }).ToList());

    private static float[] Encode(TabularProcessor processor, params object?[] values) => TabularTests.Encode(processor, values);

    [Fact]
    public void One_hot_is_the_default_and_Auto_embeds_only_columns_of_more_than_ten_categories()
    {
        var oneHot = TabularDatasets.FromTable(Cities(), new TabularOptions("y")).Processor!;
        Assert.Equal(1 + 3 + 12, oneHot.Width);
        Assert.Empty(oneHot.EmbeddedInputs);
        Assert.All(oneHot.Features.Skip(1), f => Assert.Equal(CategoryEncoding.OneHot, f.Encoding));

        var auto = TabularDatasets.FromTable(Cities(), new TabularOptions("y") { CategoryEncoding = CategoryEncoding.Auto }).Processor!;
        Assert.Equal([CategoryEncoding.OneHot, CategoryEncoding.OneHot, CategoryEncoding.Embedding], auto.Features.Select(f => f.Encoding));
        Assert.Equal(1 + 3 + 1, auto.Width);
        Assert.Equal([new EmbeddedInput("city", 4, 12)], auto.EmbeddedInputs);

        var embedded = TabularDatasets.FromTable(Cities(), new TabularOptions("y") { CategoryEncoding = CategoryEncoding.Embedding }).Processor!;
        Assert.Equal([new EmbeddedInput("colour", 1, 3), new EmbeddedInput("city", 2, 12)], embedded.EmbeddedInputs);
        // The index of the sorted category, as a float among the other inputs.
        Assert.Equal([(float)((5 - embedded.Features[0].Mean) / embedded.Features[0].Std), 1f, 7f], Encode(embedded, 5, "green", "c07"));
        Assert.Contains("3 inputs, 2 of them embedded", embedded.ToString());
    }

    [Fact]
    public void An_unknown_category_is_an_error_by_default_and_the_na_slot_with_Slot()
    {
        var strict = TabularDatasets.FromTable(Cities(), new TabularOptions("y") { CategoryEncoding = CategoryEncoding.Auto }).Processor!;
        var error = Assert.Throws<TabularDataException>(() => Encode(strict, 1, "red", "c99"));
        Assert.StartsWith("Row 1, column 'city': the category 'c99' was not seen in training.", error.Message);

        var slot = TabularDatasets.FromTable(Cities(), new TabularOptions("y") { CategoryEncoding = CategoryEncoding.Auto, UnknownCategory = UnknownCategoryPolicy.Slot }).Processor!;
        Assert.All(slot.Features.Skip(1), f => Assert.True(f.UnknownSlot));
        // Embedded: #na# is row 0 and the known categories follow it, so the embedding has one row more.
        Assert.Equal([new EmbeddedInput("city", 4, 13)], slot.EmbeddedInputs);
        Assert.Equal(8f, Encode(slot, 1, "red", "c07")[4]);
        Assert.Equal(0f, Encode(slot, 1, "red", "c99")[4]);
        // One-hot: an unknown category is none of the known ones, an all-zero block.
        Assert.Equal([0f, 0f, 1f], Encode(slot, 1, "red", "c00")[1..4]);
        Assert.Equal([0f, 0f, 0f], Encode(slot, 1, "purple", "c00")[1..4]);
        // A missing value is still a missing value, not an unknown category.
        Assert.Throws<TabularDataException>(() => Encode(slot, 1, null, "c00"));
    }

    [Fact]
    public void A_model_with_the_slot_predicts_unknown_categories_and_its_file_keeps_the_slot()
    {
        Isaac.SetSeed(1);
        var processor = TabularDatasets.FromTable(Cities(), new TabularOptions("y") { CategoryEncoding = CategoryEncoding.Auto, UnknownCategory = UnknownCategoryPolicy.Slot }).Processor!;
        var predictor = new Predictor(new EmbeddingMlp(EmbeddingMlpOptions.For(processor, [8], 2)), processor: processor);
        var path = Path.Combine(_folder, "slot.isaac");
        ModelFile.Save(path, predictor);
        var loaded = ModelFile.Load(path);
        Assert.Equal(processor.Features, loaded.Processor!.Features);
        var table = new TabularTable(["size", "colour", "city"], [[1.0, "purple", "c99"], [2.0, "red", "c03"]]);
        var predictions = loaded.Predict(table);
        Assert.Equal(2, predictions.Count);
        Assert.All(predictions, p => Assert.Contains((string)p.Value, new[] { "a", "b" }));
    }

    /// <summary>40 rows: name (all distinct: an ID), note (free text, 30 distinct), code (numbers, all distinct), day (dates, all distinct), kind (2 categories), y.</summary>
    private static TabularTable WithIds() => new(["name", "note", "code", "day", "kind", "y"], Enumerable.Range(0, 40).Select(i => new object?[]
    {
        $"person {i}", $"note {i % 30}", (100 + i).ToString(CultureInfo.InvariantCulture), new DateTime(2020, 1, 1).AddDays(i * 3).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        i % 2 == 0 ? "x" : "z", i % 4 < 2 ? "a" : "b",
    }).ToList());

    [Fact]
    public void ID_like_text_columns_are_left_out_with_one_warning_naming_each()
    {
        var logger = new RecordingLogger();
        var dd = TabularDatasets.FromTable(WithIds(), new TabularOptions("y"), logger);
        // Numbers and dates with distinct values are kept: they are read as values, not categories.
        Assert.Equal(["code", "day", "kind"], dd.Processor!.FeatureNames);
        Assert.Equal(
            "Left out 'name' (40 distinct values in 40 rows), 'note' (30 distinct values in 40 rows): more distinct values than 50% of the rows, as IDs and free text have; " +
            "a model cannot learn from a value seen once, and each new one would be unknown at prediction. To keep such a column, name it in -Feature or -Category (Features or Categories in C#).",
            Assert.Single(logger.Warnings));
    }

    [Fact]
    public void Naming_an_ID_like_column_keeps_it_and_a_higher_share_or_few_values_are_no_warning()
    {
        var logger = new RecordingLogger();
        var named = TabularDatasets.FromTable(WithIds(), new TabularOptions("y") { Features = ["name", "kind"] }, logger);
        Assert.Equal(["name", "kind"], named.Processor!.FeatureNames);
        var asCategory = TabularDatasets.FromTable(WithIds(), new TabularOptions("y") { Categories = ["note"] }, logger);
        Assert.Equal(["note", "code", "day", "kind"], asCategory.Processor!.FeatureNames);
        var share = TabularDatasets.FromTable(WithIds(), new TabularOptions("y") { IdLikeShare = 0.8 }, logger);
        Assert.Equal(["note", "code", "day", "kind"], share.Processor!.FeatureNames); // 30 of 40 is not above 80%
        Assert.Equal(2, logger.Warnings.Count()); // 'name' was left out by the last two
        // 12 rows of 12 distinct names: too few values to call them IDs.
        var small = new TabularTable(["name", "y"], Enumerable.Range(0, 12).Select(i => new object?[] { $"n{i}", i % 2 == 0 ? "a" : "b" }).ToList());
        Assert.Equal(["name"], TabularDatasets.FromTable(small, new TabularOptions("y"), logger).Processor!.FeatureNames);
        Assert.Equal(2, logger.Warnings.Count());
    }

    [Fact]
    public void A_long_column_of_distinct_numbers_is_kept_and_a_long_ID_column_left_out()
    {
        var table = new TabularTable(["amount", "key", "y"], Enumerable.Range(0, 3000).Select(i => new object?[]
            { (i * 1.25).ToString(CultureInfo.InvariantCulture), $"k{i}", i % 2 == 0 ? "a" : "b" }).ToList());
        var logger = new RecordingLogger();
        Assert.Equal(["amount"], TabularDatasets.FromTable(table, new TabularOptions("y"), logger).Processor!.FeatureNames);
        Assert.StartsWith("Left out 'key' (3,000 distinct values in 3,000 rows)", Assert.Single(logger.Warnings));
    }

    [Fact]
    public void A_table_of_nothing_but_IDs_is_one_error_naming_them_and_the_remedy()
    {
        var table = new TabularTable(["name", "y"], Enumerable.Range(0, 40).Select(i => new object?[] { $"n{i}", i % 2 == 0 ? "a" : "b" }).ToList());
        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(table, new TabularOptions("y")));
        Assert.Equal("Every column besides the target looks like an ID or free text, with more distinct values than 50% of its rows: 'name' (40 distinct values in 40 rows). Name the columns to predict from in -Feature (Features in C#).", error.Message);
    }

    [Theory]
    [InlineData("2021-03-04")]
    [InlineData("2021-03-04T00:00:00")]
    [InlineData("2021-03-04 00:00")]
    [InlineData("2021-03-04T05:00:00+05:00")]
    [InlineData("Mar 4 2021")]
    [InlineData("March 4, 2021")]
    [InlineData("4 Mar 2021")]
    public void Dates_are_read_from_ISO_text_and_month_names(string text)
    {
        Assert.True(TabularDates.TryDate(text, out var date));
        Assert.Equal(new DateTime(2021, 3, 4), date);
    }

    [Theory]
    [InlineData("03/04/2021")] // day and month order depend on the culture
    [InlineData("2021")]
    [InlineData("red")]
    [InlineData("2021-13-01")]
    [InlineData("c2021-03-04")]
    public void Text_that_is_not_an_unambiguous_date_is_not_one(string text) => Assert.False(TabularDates.TryDate(text, out _));

    [Fact]
    public void Date_objects_are_dates_and_the_parts_are_fastais()
    {
        Assert.True(TabularDates.TryDate(new DateTime(2021, 3, 4, 6, 0, 0, DateTimeKind.Local), out var local));
        Assert.Equal(new DateTime(2021, 3, 4, 6, 0, 0), local);
        Assert.True(TabularDates.TryDate(new DateTimeOffset(2021, 3, 4, 6, 0, 0, TimeSpan.FromHours(2)), out var offset));
        Assert.Equal(new DateTime(2021, 3, 4, 4, 0, 0), offset);
        Assert.True(TabularDates.TryDate(new DateOnly(2021, 3, 4), out var day));
        var thursday = new DateTime(2021, 3, 4, 12, 0, 0);
        Assert.Equal([2021, 3, 4, 3, 63, 18690.5], TabularDates.Parts.Select(p => TabularDates.PartOf(thursday, p)));
        Assert.Equal(new DateTime(2021, 3, 4), day);
    }

    /// <summary>30 rows: when (a date, every 41 days from 2020-01-01, so that every part varies), y (a class).</summary>
    private static TabularTable Dates(Func<int, object?>? when = null) => new(["when", "y"], Enumerable.Range(0, 30).Select(i => new object?[]
        { when?.Invoke(i) ?? new DateTime(2020, 1, 1).AddDays(41 * i).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), i % 2 == 0 ? "a" : "b" }).ToList());

    [Fact]
    public void A_date_column_becomes_its_six_parts_standardised_with_the_train_split()
    {
        var dd = TabularDatasets.FromTable(Dates(), new TabularOptions("y") { Seed = 4 });
        var p = dd.Processor!;
        var when = Assert.Single(p.Features);
        Assert.Equal(FeatureKind.Date, when.Kind);
        Assert.Equal(6, p.Width);
        Assert.Equal(TabularDates.Parts, when.DateParts!.Select(d => d.Part));
        var x = dd["train"].Tensors().X;
        using var means = x.mean([0]);
        using var stds = x.std(0, unbiased: false);
        // Standardised with the train rows' own statistics: mean 0 and std 1 for every part.
        Assert.True(means.abs().max().item<float>() < 1e-5);
        Assert.True((stds - 1).abs().max().item<float>() < 1e-4);
        // The same date as text, as [datetime] or as a month name encodes alike, at prediction too.
        var fromText = Encode(p, "2020-02-15");
        Assert.Equal(fromText, Encode(p, new DateTime(2020, 2, 15)));
        Assert.Equal(fromText, Encode(p, "Feb 15 2020"));
        var elapsed = when.DateParts!.Single(d => d.Part == DatePart.Elapsed);
        Assert.Equal((float)(((new DateTime(2020, 2, 15) - DateTime.UnixEpoch).TotalDays - elapsed.Mean) / elapsed.Std), fromText[5]);
        var error = Assert.Throws<TabularDataException>(() => Encode(p, "soon"));
        Assert.StartsWith("Row 1, column 'when': 'soon' is not a date (ISO 8601 such as 2021-03-04", error.Message);
    }

    [Fact]
    public void Dates_as_datetime_objects_give_the_same_dataset_as_their_ISO_text()
    {
        var text = TabularDatasets.FromTable(Dates(), new TabularOptions("y"));
        var objects = TabularDatasets.FromTable(Dates(i => new DateTime(2020, 1, 1).AddDays(41 * i)), new TabularOptions("y"));
        Assert.Equal(text.Processor!.Features, objects.Processor!.Features);
        Assert.Equal(text["train"].Tensors().X.data<float>().ToArray(), objects["train"].Tensors().X.data<float>().ToArray());
    }

    [Fact]
    public void A_value_that_is_not_a_date_among_dates_is_an_error_and_as_categories_a_date_is_text()
    {
        var table = Dates(i => i == 7 ? "2020-02-31" : null);
        var error = Assert.Throws<TabularDataException>(() => TabularDatasets.FromTable(table, new TabularOptions("y")));
        Assert.Equal("Row 8, column 'when': '2020-02-31' is not a date (ISO 8601 such as 2021-03-04, or a month name such as Jun 12 1998), yet 29 of the column's 30 values are. Correct the value, or name the column in -Category (Categories in C#) to read it as categories.", error.Message);
        Assert.Equal(8, error.Row);
        var asCategories = TabularDatasets.FromTable(Dates(), new TabularOptions("y") { Categories = ["when"] }).Processor!;
        Assert.Equal(FeatureKind.Category, asCategories.Features[0].Kind);
        Assert.Equal(30, asCategories.Width);
    }

    [Fact]
    public void A_missing_date_is_filled_with_the_mean_date_or_the_most_frequent_one()
    {
        var table = Dates(i => i == 3 ? "NA" : i == 4 ? "2020-01-01" : null);
        var processor = TabularDatasets.FromTable(table, new TabularOptions("y") { MissingValue = MissingValuePolicy.Mean, Seed = 2 }).Processor!;
        var mean = processor.Features[0];
        Assert.Equal(Encode(processor, mean.Fill), Encode(processor, "NA"));
        Assert.True(TabularDates.TryDate(mean.Fill, out var meanDate));
        var elapsed = mean.DateParts!.Single(d => d.Part == DatePart.Elapsed);
        Assert.Equal(elapsed.Mean, (meanDate - DateTime.UnixEpoch).TotalDays, 6);
        var mode = TabularDatasets.FromTable(table, new TabularOptions("y") { MissingValue = MissingValuePolicy.Mode, Seed = 2 }).Processor!.Features[0];
        Assert.Equal("2020-01-01", mode.Fill); // twice in the table: row 1 and row 5
    }

    /// <summary>As a model file's manifest is written: web names, enums as text.</summary>
    private static readonly JsonSerializerOptions ManifestJson = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    [Fact]
    public void The_processor_round_trips_through_JSON_and_a_manifest_of_an_older_version_still_reads()
    {
        var table = new TabularTable(["when", "city", "colour", "y"], Enumerable.Range(0, 60).Select(i => new object?[]
            { new DateTime(2020, 1, 1).AddDays(i).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), $"c{i % 12:D2}", new[] { "red", "blue" }[i % 2], i % 3 == 0 ? "a" : "b" }).ToList());
        var processor = TabularDatasets.FromTable(table, new TabularOptions("y") { CategoryEncoding = CategoryEncoding.Auto, UnknownCategory = UnknownCategoryPolicy.Slot }).Processor!;
        var text = JsonSerializer.Serialize(processor, ManifestJson);
        Assert.Contains("\"encoding\":\"Embedding\"", text);
        Assert.Contains("\"part\":\"DayOfWeek\"", text);
        var back = JsonSerializer.Deserialize<TabularProcessor>(text, ManifestJson)!;
        Assert.Equal(processor.Features, back.Features);
        Assert.Equal(processor.EmbeddedInputs, back.EmbeddedInputs);

        // Before this version a column had no encoding, slot or date parts: it reads as one-hot without a slot.
        const string older = """{"features":[{"name":"colour","kind":"Category","mean":0,"std":1,"categories":["blue","red"],"fill":null}],"target":{"name":"y","task":"Classification","classes":["a","b"],"mean":0,"std":1},"missingValue":"Error"}""";
        var old = JsonSerializer.Deserialize<TabularProcessor>(older, ManifestJson)!;
        Assert.Equal(CategoryEncoding.OneHot, old.Features[0].Encoding);
        Assert.False(old.Features[0].UnknownSlot);
        Assert.Equal(2, old.Width);
    }

    [Theory]
    [InlineData("""{"name":"d","kind":"Date","mean":0,"std":1,"categories":[],"fill":null}""", "is a date column, which needs the parts Year, Month, Day, DayOfWeek, DayOfYear, Elapsed in that order")]
    [InlineData("""{"name":"c","kind":"Category","mean":0,"std":1,"categories":["a"],"fill":null,"encoding":"Auto"}""", "has the encoding Auto; a fitted category column is OneHot or Embedding")]
    [InlineData("""{"name":"n","kind":"Numeric","mean":0,"std":1,"categories":[],"fill":null,"unknownSlot":true}""", "has a category encoding or an unknown-category slot, but is not a category column")]
    public void A_manifest_whose_columns_no_fit_could_make_is_refused(string column, string problem)
    {
        var json = $$"""{"features":[{{column}}],"target":{"name":"y","task":"Classification","classes":["a","b"],"mean":0,"std":1},"missingValue":"Error"}""";
        var error = Assert.Throws<ArgumentException>(() => JsonSerializer.Deserialize<TabularProcessor>(json, ManifestJson));
        Assert.Contains(problem, error.Message);
    }
}
