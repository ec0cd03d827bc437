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
        var rows = RowsToKeep(table, features, target, options.MissingValue, logger);
        if (rows.Count < 2) throw new TabularDataException($"{rows.Count} usable row(s): a train and a valid split need at least two.");

        var task = options.Task ?? InferTask(rows.Select(r => table.Rows[r][target]));
        var targetName = table.Columns[target];
        var classes = task == TaskKind.Classification ? SortedClasses(rows.Select(r => TabularValues.Text(table.Rows[r][target]))) : null;
        var targetNumbers = task == TaskKind.Regression ? TargetNumbers(table, rows, target, targetName) : null;
        if (classes is { Count: < 2 }) throw new TabularDataException($"The target '{targetName}' has only one class ('{classes[0]}'); a classifier needs at least two.", targetName);

        var classOf = classes?.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);
        var (train, valid) = Split(rows, classOf is null ? null : r => classOf[TabularValues.Text(table.Rows[r][target])], options.ValidFraction, options.Seed);

        var fitted = features.Select(c => FitColumn(table, c, rows, train, options.MissingValue)).ToList();
        var targetSpec = classes is not null ? TargetSpec.Classification(targetName, classes)
            : TargetSpec.Regression(targetName, Mean(train.Select(r => targetNumbers![r])), Std(train.Select(r => targetNumbers![r])));
        var processor = new TabularProcessor(fitted, targetSpec, options.MissingValue);
        logger.LogDebug("Fitted {Processor} on {Train} train rows ({Valid} valid)", processor, train.Count, valid.Count);

        TensorDataset Encode(IReadOnlyList<int> split)
        {
            Tensor y = classOf is not null
                ? tensor(split.Select(r => classOf[TabularValues.Text(table.Rows[r][target])]).ToArray(), [split.Count])
                : tensor(split.Select(r => (float)((targetNumbers![r] - targetSpec.Mean) / targetSpec.Std)).ToArray(), [split.Count, 1]);
            return new TensorDataset(processor.Transform(table, split), y);
        }
        return new DatasetDict { ["train"] = Encode(train), ["valid"] = Encode(valid) }.WithProcessor(processor);
    }

    /// <summary>
    /// Regression when every value is a number and they are not few whole numbers (some have a fraction, or
    /// there are more than <see cref="MaxInferredClasses"/> distinct ones); classification otherwise.
    /// </summary>
    public static TaskKind InferTask(IEnumerable<object?> targetValues)
    {
        var distinct = new HashSet<double>();
        foreach (var value in targetValues)
        {
            if (!TabularValues.TryNumber(value, out var number)) return TaskKind.Classification;
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

    /// <summary>The rows that go on, by <paramref name="policy"/>; an error (Error) or a warning (Drop, and rows without a target) for the others.</summary>
    private static List<int> RowsToKeep(TabularTable table, List<int> features, int target, MissingValuePolicy policy, ILogger logger)
    {
        var checkedColumns = features.Append(target).ToList();
        var missingByColumn = checkedColumns.ToDictionary(c => c, _ => 0);
        var keep = new List<int>(table.Rows.Count);
        (int Row, int Column)? first = null;
        int affected = 0, targetMissing = 0;
        for (int r = 0; r < table.Rows.Count; r++)
        {
            bool any = false;
            foreach (var c in checkedColumns)
                if (TabularValues.IsMissing(table.Rows[r][c])) { missingByColumn[c]++; any = true; first ??= (r, c); }
            bool noTarget = TabularValues.IsMissing(table.Rows[r][target]);
            if (any) affected++;
            if (noTarget) targetMissing++;
            if (policy == MissingValuePolicy.Drop ? !any : !noTarget) keep.Add(r);
        }
        if (affected == 0) return keep;
        var where = string.Join(", ", missingByColumn.Where(kv => kv.Value > 0).Select(kv => $"{table.Columns[kv.Key]} ({kv.Value})"));
        if (policy == MissingValuePolicy.Error)
            throw new TabularDataException(
                $"Row {first!.Value.Row + 1} has no value for '{table.Columns[first.Value.Column]}' (null, blank or {string.Join("/", TabularValues.MissingTexts)}); " +
                $"{affected} of {table.Rows.Count} rows have missing values, in: {where}. Use MissingValue Drop to leave those rows out, or Mean or Mode to fill them in.",
                table.Columns[first.Value.Column], first.Value.Row + 1);
        if (policy == MissingValuePolicy.Drop)
            logger.LogWarning("Left out {Dropped} of {Rows} rows with missing values (in {Where}).", table.Rows.Count - keep.Count, table.Rows.Count, where);
        else
        {
            if (targetMissing > 0)
                logger.LogWarning("Left out {Dropped} of {Rows} rows that have no '{Target}': a target is never filled in.", targetMissing, table.Rows.Count, table.Columns[target]);
            logger.LogInformation("Filling in missing values by {Policy} (missing per column: {Where}).", policy, where);
        }
        return keep;
    }

    private static double[] TargetNumbers(TabularTable table, List<int> rows, int target, string name)
    {
        var numbers = new double[table.Rows.Count];
        foreach (var r in rows)
            if (!TabularValues.TryNumber(table.Rows[r][target], out numbers[r]))
                throw new TabularDataException($"Row {r + 1}, target '{name}': '{TabularValues.Text(table.Rows[r][target])}' is not a number, and a regression target must be. Use Task Classification to predict it as a class.", name, r + 1);
        return numbers;
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

    private static FeatureColumn FitColumn(TabularTable table, int column, List<int> rows, List<int> train, MissingValuePolicy policy)
    {
        var name = table.Columns[column];
        bool numeric = rows.All(r => TabularValues.IsMissing(table.Rows[r][column]) || TabularValues.TryNumber(table.Rows[r][column], out _));
        var present = train.Select(r => table.Rows[r][column]).Where(v => !TabularValues.IsMissing(v)).ToList();
        if (numeric)
        {
            var numbers = present.Select(v => { TabularValues.TryNumber(v, out var n); return n; }).ToList();
            if (numbers.Count == 0) throw new TabularDataException($"The column '{name}' has no value in the train split.", name);
            double mean = Mean(numbers);
            string? fill = policy switch
            {
                MissingValuePolicy.Mean => mean.ToString("R", CultureInfo.InvariantCulture),
                MissingValuePolicy.Mode => MostFrequent(numbers.Select(n => n.ToString("R", CultureInfo.InvariantCulture))),
                _ => null,
            };
            return new FeatureColumn(name, FeatureKind.Numeric, mean, Std(numbers), [], fill);
        }
        // Categories are a vocabulary, not a statistic: take them from every row, so a valid row never meets an unknown one.
        var categories = SortedClasses(rows.Select(r => table.Rows[r][column]).Where(v => !TabularValues.IsMissing(v)).Select(TabularValues.Text));
        var mode = policy is MissingValuePolicy.Mean or MissingValuePolicy.Mode ? MostFrequent(present.Select(TabularValues.Text)) : null;
        return new FeatureColumn(name, FeatureKind.Category, 0, 1, categories, mode);
    }

    private static string? MostFrequent(IEnumerable<string> values) => values
        .GroupBy(v => v, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => g.Key).FirstOrDefault();

    private static double Mean(IEnumerable<double> values) => values.DefaultIfEmpty(0).Average();

    /// <summary>The population std; 1 for a constant column, so standardising never divides by zero.</summary>
    private static double Std(IEnumerable<double> values)
    {
        var list = values.ToList();
        if (list.Count == 0) return 1;
        double mean = list.Average();
        double std = Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / list.Count);
        return std > 0 && double.IsFinite(std) ? std : 1;
    }
}
