using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace Isaacai.Data.Tabular;

/// <summary>
/// A table made into a dataset: rows with missing values handled, split into train and valid (stratified by
/// class for classification), a <see cref="TabularProcessor"/> fitted on the train split, both splits encoded.
/// </summary>
public static class TabularDatasets
{
    /// <summary>Above this many distinct whole numbers, a numeric target is taken for a quantity, not a class.</summary>
    public const int MaxInferredClasses = 20;

    /// <summary>
    /// At most this many categories in a feature column: each is one model input, so the encoded table is
    /// rows × categories floats (50,000 categories of 50,000 rows would be 10 GB).
    /// </summary>
    public const int MaxCategories = 1000;

    /// <summary>
    /// At most this many categories in an embedded column: its embedding holds categories × size weights (and an
    /// optimizer as many again), 100,000 × 600 floats being 240 MB.
    /// </summary>
    public const int MaxEmbeddingCategories = 100_000;

    /// <summary>A text column with at most this many distinct values is never taken for an ID, however few its rows.</summary>
    public const int IdLikeMinDistinct = 20;

    /// <summary>How many present values of a column tell whether it holds numbers or dates, when looking for ID-like columns.</summary>
    private const int IdLikeProbe = 1000;

    public static DatasetDict FromTable(TabularTable table, TabularOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        if (!(options.ValidFraction > 0 && options.ValidFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.ValidFraction, "The valid fraction must be greater than 0 and less than 1.");
        int target = table.IndexOf(options.Target);
        if (target < 0) throw new TabularDataException($"There is no column '{options.Target}' to predict. The columns are: {string.Join(", ", table.Columns)}.", options.Target);
        var features = FeatureColumnsOf(table, options, target);
        var categoryColumns = CategoryColumnsOf(table, options, features);
        if (options.Features is null) features = WithoutIdLikeColumns(table, features, categoryColumns, options.IdLikeShare, logger);
        var rows = RowsToKeep(table, features, target, options.MissingValue, logger);
        if (rows.Count < 2) throw new TabularDataException($"{rows.Count} usable row(s): a train and a valid split need at least two.");

        var targetName = table.Columns[target];
        var targetIntent = options.Task switch { TaskKind.Classification => ColumnIntent.Category, TaskKind.Regression => ColumnIntent.Number, _ => ColumnIntent.Infer };
        var targetNumbers = NumbersOf(table, target, rows, targetIntent, logger, isTarget: true);
        var task = options.Task ?? (targetNumbers is null ? TaskKind.Classification : InferTaskOfNumbers(rows.Select(r => targetNumbers[r])));
        if (task == TaskKind.Classification) targetNumbers = null;
        var classes = task == TaskKind.Classification ? SortedClasses(new ColumnCells<string>(table, target, TabularValues.Text).OfPresent(rows)) : null;
        if (classes is { Count: < 2 }) throw new TabularDataException($"The target '{targetName}' has only one class ('{classes[0]}'); a classifier needs at least two.", targetName);

        var classIndex = classes?.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);
        var classOf = classIndex is null ? null : new ColumnCells<long>(table, target, v => classIndex[TabularValues.Text(v)]);
        var (train, valid) = Split(rows, classOf is null ? null : r => classOf[r], options.ValidFraction, options.Seed);

        var fitted = features.Select(c =>
        {
            var intent = categoryColumns.Contains(c) ? ColumnIntent.Category : ColumnIntent.Infer;
            var numbers = NumbersOf(table, c, rows, intent, logger);
            var dates = numbers is null && intent == ColumnIntent.Infer ? DatesOf(table, c, rows) : null;
            return FitColumn(table, c, rows, train, options, numbers, dates);
        }).ToList();
        TargetSpec targetSpec;
        if (classes is not null) targetSpec = TargetSpec.Classification(targetName, classes, LabelTypeOf(table, target, rows));
        else
        {
            var (mean, std) = MeanAndStd(targetNumbers!, train);
            targetSpec = TargetSpec.Regression(targetName, mean, std);
        }
        var processor = new TabularProcessor(fitted, targetSpec, options.MissingValue);
        logger.LogDebug("Fitted {Processor} on {Train} train rows ({Valid} valid)", processor, train.Count, valid.Count);

        TensorDataset Encode(IReadOnlyList<int> split)
        {
            Tensor y = classOf is not null
                ? tensor(split.Select(r => classOf[r]).ToArray(), [split.Count])
                : tensor(split.Select(r => (float)((targetNumbers![r] - targetSpec.Mean) / targetSpec.Std)).ToArray(), [split.Count, 1]);
            return new TensorDataset(processor.Transform(table, split), y);
        }
        return new DatasetDict { ["train"] = Encode(train), ["valid"] = Encode(valid) }.WithProcessor(processor);
    }

    /// <summary>
    /// A dataset straight from a CSV, TSV or Parquet file (see <see cref="TabularFile"/>): the same as from the
    /// same rows given as objects, reading only the target and feature columns, and building no object per row.
    /// </summary>
    public static DatasetDict FromFile(string path, TabularOptions options, ILogger? logger = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var columns = new TabularFileColumns
        {
            Only = options.Features is null ? null : [options.Target, .. options.Features],
            Text = [options.Target, .. options.Categories ?? []],
        };
        return FromTable(TabularFile.Read(path, columns, cancel), options, logger);
    }

    /// <summary>
    /// Regression when every value is a number and they are not few whole numbers (some have a fraction, or
    /// there are more than <see cref="MaxInferredClasses"/> distinct ones); classification otherwise.
    /// </summary>
    public static TaskKind InferTask(IEnumerable<object?> targetValues)
    {
        bool notANumber = false;
        var task = InferTaskOfNumbers(Numbers());
        return notANumber ? TaskKind.Classification : task;

        // Read as far as InferTask reads them: a number with a fraction decides before a later value that is not a number.
        IEnumerable<double> Numbers()
        {
            foreach (var value in targetValues)
            {
                if (!TabularValues.TryNumber(value, out var number)) { notANumber = true; yield break; }
                yield return number;
            }
        }
    }

    /// <summary><see cref="InferTask"/> for values that are all finite numbers.</summary>
    private static TaskKind InferTaskOfNumbers(IEnumerable<double> numbers)
    {
        var distinct = new HashSet<double>();
        foreach (var number in numbers)
        {
            if (number != Math.Floor(number)) return TaskKind.Regression;
            distinct.Add(number);
        }
        return distinct.Count > MaxInferredClasses ? TaskKind.Regression : TaskKind.Classification;
    }

    private static List<int> FeatureColumnsOf(TabularTable table, TabularOptions options, int target)
    {
        if (options.Features is null)
        {
            var all = Enumerable.Range(0, table.Columns.Count).Where(c => c != target).ToList();
            return all.Count > 0 ? all : throw new TabularDataException($"The table has no column besides the target '{options.Target}' to predict it from.");
        }
        if (options.Features.Count == 0) throw new TabularDataException("The feature list is empty; name at least one column, or none to use every column but the target.");
        var columns = new List<int>();
        foreach (var name in options.Features)
        {
            int c = table.IndexOf(name);
            if (c < 0) throw new TabularDataException($"There is no feature column '{name}'. The columns are: {string.Join(", ", table.Columns)}.", name);
            if (c == target) throw new TabularDataException($"'{name}' is the target; it cannot also be a feature.", name);
            if (columns.Contains(c)) throw new TabularDataException($"The feature '{name}' is listed twice.", name);
            columns.Add(c);
        }
        return columns;
    }

    /// <summary>
    /// The features less the text columns that look like IDs or free text (titles, names, keys): more distinct values
    /// than <paramref name="share"/> of their present values, and more than <see cref="IdLikeMinDistinct"/>. Each is
    /// a category seen once or twice, which a model cannot learn from, and a new row's value would be unknown.
    /// One warning names them all; a column named among the categories stays.
    /// </summary>
    private static List<int> WithoutIdLikeColumns(TabularTable table, List<int> features, HashSet<int> categoryColumns, double share, ILogger logger)
    {
        if (!(share > 0 && share <= 1)) throw new ArgumentOutOfRangeException(nameof(share), share, "The ID-like share must be greater than 0 and at most 1.");
        var left = new List<(int Column, int Distinct, int Present)>();
        var distinct = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in features.Where(c => !categoryColumns.Contains(c)))
        {
            distinct.Clear();
            int present = 0, valueLike = 0;
            bool ofValues = false;
            var isValue = new ColumnCells<bool>(table, c, v => TabularValues.Read(v, out _) != CellReading.Text || TabularDates.TryDate(v, out _));
            var text = new ColumnCells<string>(table, c, TabularValues.Text);
            for (int r = 0; r < table.RowCount; r++)
            {
                if (table.IsMissing(r, c)) continue;
                present++;
                // Numbers and dates are read as values, never as categories, so they are no IDs. Whether a column holds
                // them is judged on its first present values, so that a long column of numbers is not read twice here.
                if (present <= IdLikeProbe)
                {
                    if (isValue[r]) valueLike++;
                    if (present == IdLikeProbe && valueLike * 2 > present) { ofValues = true; break; }
                }
                distinct.Add(text[r]);
            }
            if (ofValues || valueLike * 2 > Math.Min(present, IdLikeProbe)) continue;
            if (distinct.Count > IdLikeMinDistinct && distinct.Count > share * present) left.Add((c, distinct.Count, present));
        }
        if (left.Count == 0) return features;
        var named = string.Join(", ", left.Select(l => $"'{table.Columns[l.Column]}' ({l.Distinct.ToString("N0", CultureInfo.InvariantCulture)} distinct values in {l.Present.ToString("N0", CultureInfo.InvariantCulture)} rows)"));
        var kept = features.Except(left.Select(l => l.Column)).ToList();
        if (kept.Count == 0)
            throw new TabularDataException($"Every column besides the target looks like an ID or free text, with more distinct values than {Percent(share)} of its rows: {named}. Name the columns to predict from in -Feature (Features in C#).", table.Columns[left[0].Column]);
        logger.LogWarning("Left out {Columns}: more distinct values than {Share} of the rows, as IDs and free text have; a model cannot learn from a value seen once, and each new one would be unknown at prediction. To keep such a column, name it in -Feature or -Category (Features or Categories in C#).",
            named, Percent(share));
        return kept;
    }

    private static string Percent(double share) => (share * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%";

    /// <summary>The feature columns that <see cref="TabularOptions.Categories"/> asks to read as categories.</summary>
    private static HashSet<int> CategoryColumnsOf(TabularTable table, TabularOptions options, List<int> features)
    {
        var columns = new HashSet<int>();
        foreach (var name in options.Categories ?? [])
        {
            int c = table.IndexOf(name);
            if (c < 0 || !features.Contains(c))
                throw new TabularDataException($"'{name}' is named as a category column but is not a feature. The features are: {string.Join(", ", features.Select(f => table.Columns[f]))}.", name);
            columns.Add(c);
        }
        return columns;
    }

    /// <summary>How a column is to be read: as its values say, as categories (the user asked), or as numbers (a regression target).</summary>
    private enum ColumnIntent { Infer, Category, Number }

    /// <summary>
    /// The column's numbers by table row, or null when it holds categories. A column is numeric when every present
    /// value is a finite number. One that looks numeric (more than half of its present values are numbers, infinities
    /// or numbers with a decimal comma) but is not is an error naming the first value that is not a number, with its
    /// row: one typo must not silently turn a column of numbers into hundreds of categories. A column the user asked
    /// to read as categories gets a warning instead. Numbers beyond float32's range are an error, since the model
    /// computes in float32 and such a value would reach it as an infinity.
    /// </summary>
    private static NumberColumn? NumbersOf(TabularTable table, int column, List<int> rows, ColumnIntent intent, ILogger logger, bool isTarget = false)
    {
        var name = table.Columns[column];
        if (table.Numbers(column) is { } held && intent != ColumnIntent.Category && AllFiniteFloats(held, rows)) return held;
        // By row, NaN where missing, made at the first number (a column of text needs none); a column of codes needs
        // only its texts' numbers.
        var codes = table.Codes(column);
        double[]? numbers = null;
        int present = 0, numberLike = 0, firstOther = -1;
        var cells = new ColumnCells<(CellReading Reading, double Number)>(table, column, v => (TabularValues.Read(v, out var number), number));
        foreach (var r in rows)
        {
            if (table.IsMissing(r, column)) continue;
            present++;
            var reading = cells[r];
            if (reading.Reading == CellReading.Number && codes is null)
            {
                if (numbers is null) Array.Fill(numbers = new double[table.RowCount], double.NaN);
                numbers[r] = reading.Number;
            }
            if (reading.Reading != CellReading.Text) numberLike++;
            if (reading.Reading != CellReading.Number && firstOther < 0) firstOther = r;
        }
        bool looksNumeric = numberLike * 2 > present;
        if (intent == ColumnIntent.Category)
        {
            if (firstOther >= 0 && looksNumeric)
                logger.LogWarning("Row {Row}, column '{Column}': {Value} is not a number, yet {Numbers} of the column's {Present} values are; the column is read as categories, as asked.",
                    firstOther + 1, name, $"'{TabularValues.Text(table[firstOther, column])}'", present - OtherCount(table, column, rows), present);
            return null;
        }
        if (firstOther >= 0)
        {
            if (intent == ColumnIntent.Infer && !looksNumeric) return null;
            throw NotANumber(table, column, firstOther, present - OtherCount(table, column, rows), present, intent, isTarget);
        }
        var result = codes is not null
            ? new NumberColumn(codes.Codes, codes.Texts.Select(t => TabularValues.IsMissing(t) ? double.NaN : TabularValues.Read(t, out var n) == CellReading.Number ? n : double.NaN).ToArray())
            : new NumberColumn(numbers ?? Enumerable.Repeat(double.NaN, table.RowCount).ToArray()); // no value at all: the fit says so
        foreach (var r in rows)
            if (Math.Abs(result[r]) > float.MaxValue)
                throw new TabularDataException(
                    $"Row {r + 1}, column '{name}': {TabularValues.Text(table[r, column])} is beyond the range of float32 (±{float.MaxValue.ToString("R", CultureInfo.InvariantCulture)}), in which the model computes. Rescale the column (in thousands, say) or leave the row out.",
                    name, r + 1);
        return result;
    }

    /// <summary>
    /// The column's dates by table row, or null when it holds categories. A column is of dates when every present
    /// value is one (see <see cref="TabularDates.TryDate"/>); one where more than half are, but not all, is an error
    /// naming the first value that is not, as for numbers.
    /// </summary>
    private static DateTime[]? DatesOf(TabularTable table, int column, List<int> rows)
    {
        DateTime[]? dates = null; // made at the first date (a column of text needs none)
        int present = 0, count = 0, firstOther = -1;
        var cells = new ColumnCells<DateTime?>(table, column, v => TabularDates.TryDate(v, out var date) ? date : null);
        foreach (var r in rows)
        {
            if (table.IsMissing(r, column)) continue;
            present++;
            if (cells[r] is { } date) { (dates ??= new DateTime[table.RowCount])[r] = date; count++; }
            else if (firstOther < 0) firstOther = r;
        }
        if (count * 2 <= present) return null;
        if (firstOther < 0) return dates;
        var name = table.Columns[column];
        throw new TabularDataException(
            $"Row {firstOther + 1}, column '{name}': '{TabularValues.Text(table[firstOther, column])}' is not a date (ISO 8601 such as 2021-03-04, or a month name such as Jun 12 1998), yet {count} of the column's {present} values are. Correct the value, or name the column in -Category (Categories in C#) to read it as categories.",
            name, firstOther + 1);
    }

    /// <summary>Whether a column held as numbers needs no check cell by cell: every kept row's value is missing or a finite float32.</summary>
    private static bool AllFiniteFloats(NumberColumn numbers, List<int> rows)
    {
        if (numbers.KnownWithinFloat32) return true;
        foreach (var r in rows)
            if (!double.IsNaN(numbers[r]) && !(Math.Abs(numbers[r]) <= float.MaxValue)) return false;
        return true;
    }

    private static int OtherCount(TabularTable table, int column, List<int> rows) =>
        rows.Count(r => !TabularValues.IsMissing(table[r, column]) && TabularValues.Read(table[r, column], out _) != CellReading.Number);

    /// <summary>One error for a value that is not a number in a column of numbers: what it is, where, and what would be valid.</summary>
    private static TabularDataException NotANumber(TabularTable table, int column, int row, int numbers, int present, ColumnIntent intent, bool isTarget)
    {
        var name = table.Columns[column];
        var value = table[row, column];
        var text = TabularValues.Text(value);
        var what = TabularValues.Read(value, out _) switch
        {
            CellReading.NotFinite => $"'{text}' is not a finite number, and an infinity is never taken for one; leave the cell blank (or NA) for a missing value",
            CellReading.DecimalComma => $"'{text}' is not a number: numbers are read in the invariant culture, with a decimal point ({text.Replace(',', '.')}), whatever the session's culture",
            _ => $"'{text}' is not a number (numbers are read in the invariant culture, such as 1234.5; a missing value is blank, NA, N/A or NaN)",
        };
        var remedy = intent == ColumnIntent.Number ? "A regression target must be a number: correct the value, or use Task Classification to predict the column as a class."
            : isTarget ? $"{numbers} of the column's {present} values are numbers: correct the value, or use Task Classification to predict the column as a class."
            : $"{numbers} of the column's {present} values are numbers: correct the value, or name the column in -Category (Categories in C#) to read it as categories.";
        return new TabularDataException($"Row {row + 1}, column '{name}': {what}. {remedy}", name, row + 1);
    }

    /// <summary>The rows that go on, by <paramref name="policy"/>; an error (Error) or a warning (Drop, and rows without a target) for the others.</summary>
    private static List<int> RowsToKeep(TabularTable table, List<int> features, int target, MissingValuePolicy policy, ILogger logger)
    {
        var checkedColumns = features.Append(target).ToList();
        var missingByColumn = checkedColumns.ToDictionary(c => c, _ => 0);
        int n = table.RowCount;
        // Column by column (a column of numbers is one scan for NaN); the first missing cell is the first in row order,
        // and within its row the first in checkedColumns' order, as a scan row by row would find it.
        bool[]? anyMissing = null, noTarget = null;
        (int Row, int Column)? first = null;
        foreach (var c in checkedColumns)
        {
            var numbers = table.Numbers(c);
            for (int r = 0; r < n; r++)
            {
                if (numbers is not null ? !double.IsNaN(numbers[r]) : !table.IsMissing(r, c)) continue;
                missingByColumn[c]++;
                (anyMissing ??= new bool[n])[r] = true;
                if (c == target) (noTarget ??= new bool[n])[r] = true;
                if (first is null || r < first.Value.Row) first = (r, c);
            }
        }
        var keep = new List<int>(n);
        int affected = 0, targetMissing = 0;
        for (int r = 0; r < n; r++)
        {
            bool any = anyMissing?[r] ?? false, noValue = noTarget?[r] ?? false;
            if (any) affected++;
            if (noValue) targetMissing++;
            if (policy == MissingValuePolicy.Drop ? !any : !noValue) keep.Add(r);
        }
        if (affected == 0) return keep;
        var where = string.Join(", ", missingByColumn.Where(kv => kv.Value > 0).Select(kv => $"{table.Columns[kv.Key]} ({kv.Value})"));
        if (policy == MissingValuePolicy.Error)
            throw new TabularDataException(
                $"Row {first!.Value.Row + 1} has no value for '{table.Columns[first.Value.Column]}' (null, blank or {string.Join("/", TabularValues.MissingTexts)}); " +
                $"{affected} of {table.RowCount} rows have missing values, in: {where}. Use MissingValue Drop to leave those rows out, or Mean or Mode to fill them in.",
                table.Columns[first.Value.Column], first.Value.Row + 1);
        if (policy == MissingValuePolicy.Drop)
            logger.LogWarning("Left out {Dropped} of {Rows} rows with missing values (in {Where}).", table.RowCount - keep.Count, table.RowCount, where);
        else
        {
            if (targetMissing > 0)
                logger.LogWarning("Left out {Dropped} of {Rows} rows that have no '{Target}': a target is never filled in.", targetMissing, table.RowCount, table.Columns[target]);
            logger.LogInformation("Filling in missing values by {Policy} (missing per column: {Where}).", policy, where);
        }
        return keep;
    }

    /// <summary>The type of the target's values when every present one is a whole number of one type (Int64 from JSON, say), so predictions come back as such; null otherwise.</summary>
    private static Type? LabelTypeOf(TabularTable table, int target, List<int> rows)
    {
        Type? type = null;
        foreach (var r in rows)
        {
            var value = table[r, target];
            if (value is not (long or int or short or sbyte or byte or ulong or uint or ushort) || (type is not null && value.GetType() != type)) return null;
            type = value.GetType();
        }
        return type;
    }

    /// <summary>Numbers in numeric order when every class is a number (2 before 10), else in ordinal order.</summary>
    private static List<string> SortedClasses(IEnumerable<string> values)
    {
        var distinct = values.Distinct(StringComparer.Ordinal).ToList();
        return distinct.All(v => TabularValues.TryNumber(v, out _))
            ? distinct.OrderBy(v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ThenBy(v => v, StringComparer.Ordinal).ToList()
            : distinct.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Each class (or, for regression, all rows) split at random by the fraction; both splits keep the table's order.</summary>
    private static (List<int> Train, List<int> Valid) Split(List<int> rows, Func<int, long>? classOf, double validFraction, int seed)
    {
        var (train, valid) = StratifiedSplit.Of(rows, classOf, validFraction, seed);
        if (train.Count == 0 || valid.Count == 0)
            throw new TabularDataException($"Splitting {rows.Count} rows by {validFraction} leaves an empty {(train.Count == 0 ? "train" : "valid")} split; give more rows or another valid fraction.");
        return (train, valid);
    }

    private static FeatureColumn FitColumn(TabularTable table, int column, List<int> rows, List<int> train, TabularOptions options, NumberColumn? numbers, DateTime[]? dates)
    {
        var name = table.Columns[column];
        var policy = options.MissingValue;
        if (numbers is not null || dates is not null)
            if (train.All(r => table.IsMissing(r, column))) throw new TabularDataException($"The column '{name}' has no value in the train split.", name);
        // The train split's present values, in its order; a list only where a statistic needs one (a number column's is the NaNs left out).
        IEnumerable<int> Present() => train.Where(r => !table.IsMissing(r, column));
        if (numbers is not null)
        {
            var (mean, std) = MeanAndStd(numbers, train);
            string? fill = policy switch
            {
                MissingValuePolicy.Mean => mean.ToString("R", CultureInfo.InvariantCulture),
                MissingValuePolicy.Mode => MostFrequent(Present().Select(r => numbers[r].ToString("R", CultureInfo.InvariantCulture))),
                _ => null,
            };
            return new FeatureColumn(name, FeatureKind.Numeric, mean, std, [], fill);
        }
        if (dates is not null)
        {
            var present = Present().ToList();
            var parts = TabularDates.Parts.Select(part =>
            {
                var values = new double[present.Count];
                for (int i = 0; i < values.Length; i++) values[i] = TabularDates.PartOf(dates[present[i]], part);
                var (mean, std) = MeanAndStd(new NumberColumn(values), Enumerable.Range(0, values.Length).ToList());
                return new DatePartScale(part, mean, std);
            }).ToList();
            // The mean date (mean elapsed time) or the most frequent one, as text the column reads back.
            string? fill = policy switch
            {
                MissingValuePolicy.Mean => TabularDates.Text(DateTime.UnixEpoch.AddDays(parts.Single(p => p.Part == DatePart.Elapsed).Mean)),
                MissingValuePolicy.Mode => MostFrequent(Present().Select(r => TabularDates.Text(dates[r]))),
                _ => null,
            };
            return new FeatureColumn(name, FeatureKind.Date, 0, 1, [], fill, DateParts: parts);
        }
        // Categories are a vocabulary, not a statistic: take them from every row, so a valid row never meets an unknown one.
        var texts = new ColumnCells<string>(table, column, TabularValues.Text);
        var categories = SortedClasses(texts.OfPresent(rows));
        var encoding = options.CategoryEncoding switch
        {
            CategoryEncoding.Auto => categories.Count > TabularOptions.AutoOneHotLevels ? CategoryEncoding.Embedding : CategoryEncoding.OneHot,
            CategoryEncoding.OneHot or CategoryEncoding.Embedding => options.CategoryEncoding,
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.CategoryEncoding, $"The category encoding must be one of {string.Join(", ", Enum.GetNames<CategoryEncoding>())}."),
        };
        var asAnId = categories.Count == rows.Count ? ", one per row as an ID has" : "";
        if (encoding == CategoryEncoding.OneHot && categories.Count > MaxCategories)
            throw new TabularDataException(
                $"The column '{name}' has {categories.Count} categories{asAnId}; a one-hot category column takes at most {MaxCategories}, one model input each. " +
                "Leave the column out (name the features to use), group its values into fewer categories, or use CategoryEncoding Embedding (one input, looked up in a learnt embedding).", name);
        if (encoding == CategoryEncoding.Embedding && categories.Count > MaxEmbeddingCategories)
            throw new TabularDataException(
                $"The column '{name}' has {categories.Count} categories{asAnId}; an embedded category column takes at most {MaxEmbeddingCategories}. " +
                "Leave the column out (name the features to use), or group its values into fewer categories.", name);
        var mode = policy is MissingValuePolicy.Mean or MissingValuePolicy.Mode ? MostFrequent(Present().Select(r => texts[r])) : null;
        return new FeatureColumn(name, FeatureKind.Category, 0, 1, categories, mode, encoding, options.UnknownCategory == UnknownCategoryPolicy.Slot);
    }

    private static string? MostFrequent(IEnumerable<string> values) => values
        .GroupBy(v => v, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => g.Key).FirstOrDefault();

    /// <summary>
    /// The mean and population std of the numbers at <paramref name="rows"/>, in their order, leaving out the missing
    /// ones (NaN), computed on the values divided by their largest magnitude, so neither the sum nor the squares can
    /// overflow for any finite doubles; the std is 1 for a constant column, so standardising never divides by zero.
    /// </summary>
    private static (double Mean, double Std) MeanAndStd(NumberColumn numbers, List<int> rows)
    {
        double scale = 0;
        int count = 0;
        foreach (var r in rows)
            if (numbers[r] is var v && !double.IsNaN(v)) { scale = Math.Max(scale, Math.Abs(v)); count++; }
        if (count == 0 || scale == 0) return (0, 1);
        double mean = 0;
        foreach (var r in rows)
            if (numbers[r] is var v && !double.IsNaN(v)) mean += v / scale;
        mean /= count;
        double squares = 0;
        foreach (var r in rows)
            if (numbers[r] is var v && !double.IsNaN(v)) squares += (v / scale - mean) * (v / scale - mean);
        double std = Math.Sqrt(squares / count) * scale;
        return (mean * scale, std > 0 && double.IsFinite(std) ? std : 1);
    }
}
