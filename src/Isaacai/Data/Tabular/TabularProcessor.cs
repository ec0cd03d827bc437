using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace Isaacai.Data.Tabular;

public enum FeatureKind { Numeric, Category, Date }

/// <summary>
/// One input column as fitted: a number standardised with the train split's mean and std; a category, one-hot
/// over its known values or as the index of an embedding row (<see cref="Encoding"/>); or a date, expanded into
/// the standardised parts of <see cref="DateParts"/>. <see cref="Fill"/> is what a missing value becomes, if
/// anything. With <see cref="UnknownSlot"/>, a category training never saw is fastai's <c>#na#</c> (embedding row 0,
/// or an all-zero one-hot block) instead of an error.
/// </summary>
public sealed record FeatureColumn(string Name, FeatureKind Kind, double Mean, double Std, IReadOnlyList<string> Categories, string? Fill,
    CategoryEncoding Encoding = CategoryEncoding.OneHot, bool UnknownSlot = false, IReadOnlyList<DatePartScale>? DateParts = null)
{
    /// <summary>A category column that reaches the model as one index, looked up in an embedding.</summary>
    [JsonIgnore]
    public bool IsEmbedded => Kind == FeatureKind.Category && Encoding == CategoryEncoding.Embedding;

    /// <summary>How many model inputs the column becomes.</summary>
    [JsonIgnore]
    public int Width => Kind switch
    {
        FeatureKind.Numeric => 1,
        FeatureKind.Date => DateParts?.Count ?? 0,
        _ => IsEmbedded ? 1 : Categories.Count,
    };

    /// <summary>The rows an embedding of this column needs: its categories, after <c>#na#</c> with <see cref="UnknownSlot"/>.</summary>
    [JsonIgnore]
    public int EmbeddingRows => Categories.Count + (UnknownSlot ? 1 : 0);

    public bool Equals(FeatureColumn? other) => other is not null && Name == other.Name && Kind == other.Kind
        && Mean.Equals(other.Mean) && Std.Equals(other.Std) && Categories.SequenceEqual(other.Categories) && Fill == other.Fill
        && Encoding == other.Encoding && UnknownSlot == other.UnknownSlot && (DateParts ?? []).SequenceEqual(other.DateParts ?? []);

    public override int GetHashCode() => HashCode.Combine(Name, Kind, Mean, Std, Categories.Count, Fill, Encoding, UnknownSlot);
}

/// <summary>An embedded category column's place in an encoded row, and how many embedding rows its indices need.</summary>
public sealed record EmbeddedInput(string Name, int Position, int Rows);

/// <summary>
/// The fitted preprocessing of a table: which columns, how each is encoded, and the target. It is saved
/// with a model, so a prediction applies exactly the transform that training did.
/// </summary>
public sealed class TabularProcessor
{
    private readonly Dictionary<string, int>[] _categoryIndex;

    [JsonConstructor]
    public TabularProcessor(IReadOnlyList<FeatureColumn> features, TargetSpec target, MissingValuePolicy missingValue)
    {
        Features = features ?? throw new ArgumentNullException(nameof(features));
        Target = target ?? throw new ArgumentNullException(nameof(target));
        MissingValue = missingValue;
        if (features.Count == 0) throw new ArgumentException("A tabular processor needs at least one feature column.", nameof(features));
        foreach (var feature in features) Validate(feature);
        if (features.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"The feature column '{twice.Key}' appears more than once (names are matched ignoring case).", nameof(features));
        _categoryIndex = features.Select(f => f.Categories.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal)).ToArray();
        Width = features.Sum(f => f.Width);
        var embedded = new List<EmbeddedInput>();
        for (int i = 0, at = 0; i < features.Count; at += features[i].Width, i++)
            if (features[i].IsEmbedded) embedded.Add(new EmbeddedInput(features[i].Name, at, features[i].EmbeddingRows));
        EmbeddedInputs = embedded;
    }

    /// <summary>
    /// Refuses a column that no fit could have produced (a saved model's manifest that lies, say): a numeric
    /// column needs a finite mean and a positive finite std, a category column distinct categories, a fill
    /// value one the column can hold, a date column each of its parts once with a finite mean and positive std.
    /// </summary>
    private static void Validate(FeatureColumn feature)
    {
        ArgumentNullException.ThrowIfNull(feature);
        string? problem = feature switch
        {
            { Name: null or "" } => "has no name",
            { Categories: null } => "has no list of categories (an empty one for a column that is not a category)",
            { Kind: FeatureKind.Numeric } when !double.IsFinite(feature.Mean) || !(double.IsFinite(feature.Std) && feature.Std > 0) =>
                $"needs a finite mean and a positive finite standard deviation; it has mean {feature.Mean} and std {feature.Std}",
            { Kind: FeatureKind.Numeric } when feature.Fill is { } fill && !TabularValues.TryNumber(fill, out _) => $"would fill missing values with '{fill}', which is not a number",
            { Kind: FeatureKind.Category, Categories: null or { Count: 0 } } => "is a category column without categories",
            { Kind: FeatureKind.Category } when feature.Categories.Distinct(StringComparer.Ordinal).Count() != feature.Categories.Count => "lists a category twice",
            { Kind: FeatureKind.Category } when feature.Fill is { } fill && !feature.Categories.Contains(fill, StringComparer.Ordinal) => $"would fill missing values with '{fill}', which is not one of its categories",
            { Kind: FeatureKind.Category, Encoding: not (CategoryEncoding.OneHot or CategoryEncoding.Embedding) } => $"has the encoding {feature.Encoding}; a fitted category column is OneHot or Embedding",
            { Kind: not FeatureKind.Category } when feature.Encoding != CategoryEncoding.OneHot || feature.UnknownSlot => "has a category encoding or an unknown-category slot, but is not a category column",
            { Kind: FeatureKind.Date } when feature.DateParts is not { } parts || !parts.Select(p => p.Part).SequenceEqual(TabularDates.Parts) =>
                $"is a date column, which needs the parts {string.Join(", ", TabularDates.Parts)} in that order",
            { Kind: FeatureKind.Date } when feature.DateParts!.FirstOrDefault(p => !double.IsFinite(p.Mean) || !(double.IsFinite(p.Std) && p.Std > 0)) is { } part =>
                $"needs a finite mean and a positive finite standard deviation for its part {part.Part}; it has mean {part.Mean} and std {part.Std}",
            { Kind: FeatureKind.Date } when feature.Fill is { } fill && !TabularDates.TryDate(fill, out _) => $"would fill missing values with '{fill}', which is not a date",
            { Kind: not (FeatureKind.Numeric or FeatureKind.Category or FeatureKind.Date) } => $"has an unknown kind {(int)feature.Kind}",
            _ => null,
        };
        if (problem is not null) throw new ArgumentException($"The feature column '{feature.Name}' {problem}.");
    }

    public IReadOnlyList<FeatureColumn> Features { get; }
    public TargetSpec Target { get; }
    public MissingValuePolicy MissingValue { get; }

    /// <summary>How many inputs a model of this data takes.</summary>
    [JsonIgnore]
    public int Width { get; }

    /// <summary>
    /// Where the embedded category columns' indices sit in an encoded row. They travel as floats among the other
    /// inputs (exact up to 2^24), so a batch stays one float tensor: the loaders, the trainer, checkpoints and the
    /// predictor handle it as any table's, and only the model (<see cref="Models.EmbeddingMlp"/>) reads them as indices.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<EmbeddedInput> EmbeddedInputs { get; }

    [JsonIgnore]
    public IEnumerable<string> FeatureNames => Features.Select(f => f.Name);

    /// <summary>
    /// Encodes one row, given as the values of <see cref="Features"/> in order, into <paramref name="destination"/>.
    /// <paramref name="row"/> (from 1) only names the row in errors.
    /// </summary>
    // Per row or cell from a cold start: optimized at once, not tiered up partway through (the objects path 20% faster).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void EncodeRow(IReadOnlyList<object?> values, long row, Span<float> destination)
    {
        if (values.Count != Features.Count) throw new ArgumentException($"Expected {Features.Count} values ({string.Join(", ", FeatureNames)}); got {values.Count}.", nameof(values));
        if (destination.Length != Width) throw new ArgumentException($"The destination holds {destination.Length} values; a row encodes to {Width}.", nameof(destination));
        for (int i = 0, at = 0; i < Features.Count; at += Features[i].Width, i++)
            EncodeCell(i, values[i], row, destination.Slice(at, Features[i].Width));
    }

    /// <summary>Encodes the value of feature <paramref name="i"/> into its <see cref="FeatureColumn.Width"/> inputs.</summary>
    // Per row or cell from a cold start: optimized at once, not tiered up partway through (the objects path 20% faster).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EncodeCell(int i, object? value, long row, Span<float> destination)
    {
        var feature = Features[i];
        if (TabularValues.IsMissing(value))
            value = feature.Fill ?? throw new TabularDataException(
                $"Row {row} has no value for '{feature.Name}' (null, blank or {string.Join("/", TabularValues.MissingTexts)}). This model was trained with MissingValue {MissingValue}, which fills nothing in: give a value.",
                feature.Name, row);
        if (feature.Kind == FeatureKind.Numeric)
        {
            if (!TabularValues.TryNumber(value, out var number))
                throw new TabularDataException(TabularValues.Read(value, out _) == CellReading.NotFinite
                    ? $"Row {row}, column '{feature.Name}': '{TabularValues.Text(value)}' is not a finite number; leave the value out (null or NA) for a missing one."
                    : $"Row {row}, column '{feature.Name}': '{TabularValues.Text(value)}' is not a number (numbers are read in the invariant culture, such as 1234.5).", feature.Name, row);
            // The model computes in float32: a value beyond it, or standardised beyond it, would reach the model as an
            // infinity and come back as a NaN prediction.
            float standardised = (float)((number - feature.Mean) / feature.Std);
            if (Math.Abs(number) > float.MaxValue || !float.IsFinite(standardised))
                throw new TabularDataException(
                    $"Row {row}, column '{feature.Name}': {TabularValues.Text(value)} is beyond the range of float32 (±{float.MaxValue.ToString("R", CultureInfo.InvariantCulture)}){(Math.Abs(number) > float.MaxValue ? "" : " once standardised with the training mean and std")}, in which the model computes.",
                    feature.Name, row);
            destination[0] = standardised;
        }
        else if (feature.Kind == FeatureKind.Date)
        {
            if (!TabularDates.TryDate(value, out var date))
                throw new TabularDataException(
                    $"Row {row}, column '{feature.Name}': '{TabularValues.Text(value)}' is not a date (ISO 8601 such as 2021-03-04 or 2021-03-04T10:30:00, a month name such as Jun 12 1998, or a [datetime]).",
                    feature.Name, row);
            int at = 0;
            foreach (var part in feature.DateParts!)
            {
                float standardised = (float)((TabularDates.PartOf(date, part.Part) - part.Mean) / part.Std);
                if (!float.IsFinite(standardised))
                    throw new TabularDataException($"Row {row}, column '{feature.Name}': the {part.Part} of {TabularValues.Text(value)} is beyond float32 once standardised with the training mean and std.", feature.Name, row);
                destination[at++] = standardised;
            }
        }
        else
        {
            var text = TabularValues.Text(value);
            bool known = _categoryIndex[i].TryGetValue(text, out var index);
            if (!known && !feature.UnknownSlot)
                throw new TabularDataException(
                    $"Row {row}, column '{feature.Name}': the category '{text}' was not seen in training. Known categories: {KnownCategories(feature)}.",
                    feature.Name, row);
            WriteCategory(feature, known ? index : -1, destination);
        }
    }

    /// <summary>
    /// A category's inputs: its index in an embedding (after <c>#na#</c> with an unknown slot), or its one-hot block.
    /// An unknown category (-1) is none of the known ones: embedding row 0, or an all-zero block, with no input of its
    /// own whose weights training never touched.
    /// </summary>
    private static void WriteCategory(FeatureColumn feature, int index, Span<float> destination)
    {
        if (feature.IsEmbedded) destination[0] = index >= 0 ? index + (feature.UnknownSlot ? 1 : 0) : 0;
        else
        {
            destination.Clear();
            if (index >= 0) destination[index] = 1;
        }
    }

    /// <summary>The first 20 categories, and how many more: a column may have up to <see cref="TabularDatasets.MaxCategories"/>.</summary>
    private static string KnownCategories(FeatureColumn feature) => feature.Categories.Count <= 20
        ? string.Join(", ", feature.Categories)
        : $"{string.Join(", ", feature.Categories.Take(20))} and {feature.Categories.Count - 20} more";

    /// <summary>
    /// The rows of <paramref name="table"/> encoded (all of them, or those at <paramref name="rows"/>):
    /// float32 [rows, <see cref="Width"/>]. Errors name rows by their place in the table, counting from
    /// <paramref name="firstRow"/> (a chunk of a longer file starts further on).
    /// </summary>
    public Tensor Transform(TabularTable table, IReadOnlyList<int>? rows = null, long firstRow = 1)
    {
        var columns = ColumnsOf(table);
        rows ??= Enumerable.Range(0, table.RowCount).ToArray();
        // Encoded a chunk of rows at a time, column by column, then copied straight into torch's own (aligned)
        // memory: the table is held once, not as a managed array and then its copy, and the same rows always meet
        // the same kernels, bit for bit.
        var encoded = empty([rows.Count, Width]);
        // A chunk small enough for the collector's youngest generation: a large one would be garbage that only a full collection frees.
        int chunkRows = Math.Max(1, Math.Min(rows.Count, (1 << 14) / Math.Max(1, Width)));
        var chunk = new float[(long)chunkRows * Width];
        var address = Optimization.NativeGradients.AddressOf(encoded);
        // A category column held as codes (a file's texts, or objects'): each text's category looked up once, its index or -1 (missing or unknown, for EncodeCell to fill in or refuse).
        var categories = Features.Select((f, i) => f.Kind == FeatureKind.Category && table.Codes(columns[i]) is not null
            ? new ColumnCells<int>(table, columns[i], v => !TabularValues.IsMissing(v) && _categoryIndex[i].TryGetValue(TabularValues.Text(v), out var known) ? known : -1)
            : null).ToArray();
        for (int start = 0; start < rows.Count; start += chunkRows)
        {
            int count = Math.Min(chunkRows, rows.Count - start);
            EncodeChunk(table, columns, categories, rows, start, count, firstRow, chunk);
            Marshal.Copy(chunk, 0, address + (nint)((long)start * Width * sizeof(float)), count * Width);
        }
        return encoded;
    }

    /// <summary>
    /// Encodes <paramref name="count"/> rows from <paramref name="rows"/>[<paramref name="start"/>] into
    /// <paramref name="chunk"/>, a column at a time (a column of numbers held as doubles without boxing a cell). A
    /// bad cell is encoded again row by row, so that the error names the first bad cell in row order, as
    /// <see cref="EncodeRow"/> would.
    /// </summary>
    private void EncodeChunk(TabularTable table, int[] columns, ColumnCells<int>?[] categories, IReadOnlyList<int> rows, int start, int count, long firstRow, float[] chunk)
    {
        try
        {
            for (int i = 0, at = 0; i < Features.Count; at += Features[i].Width, i++)
            {
                var feature = Features[i];
                if (feature.Kind == FeatureKind.Numeric && table.Numbers(columns[i]) is { } numbers)
                    for (int r = 0; r < count; r++)
                    {
                        int row = rows[start + r];
                        double number = numbers[row];
                        float standardised = (float)((number - feature.Mean) / feature.Std);
                        if (float.IsFinite(standardised) && Math.Abs(number) <= float.MaxValue) chunk[r * Width + at] = standardised;
                        else EncodeCell(i, table[row, columns[i]], row + firstRow, chunk.AsSpan(r * Width + at, 1)); // missing (NaN), or out of range
                    }
                else if (categories[i] is { } index)
                    for (int r = 0; r < count; r++)
                    {
                        int row = rows[start + r], known = index[row];
                        var destination = chunk.AsSpan(r * Width + at, feature.Width);
                        if (known >= 0) WriteCategory(feature, known, destination);
                        else EncodeCell(i, table[row, columns[i]], row + firstRow, destination);
                    }
                else
                    for (int r = 0; r < count; r++)
                    {
                        int row = rows[start + r];
                        EncodeCell(i, table[row, columns[i]], row + firstRow, chunk.AsSpan(r * Width + at, feature.Width));
                    }
            }
        }
        catch (TabularDataException)
        {
            var values = new object?[Features.Count];
            for (int r = 0; r < count; r++)
            {
                int row = rows[start + r];
                for (int i = 0; i < columns.Length; i++) values[i] = table[row, columns[i]];
                EncodeRow(values, row + firstRow, chunk.AsSpan(r * Width, Width));
            }
            throw; // not reached: the same cell fails row by row
        }
    }

    /// <summary>Where each feature is in <paramref name="table"/>; an error naming any that is not there.</summary>
    public int[] ColumnsOf(TabularTable table)
    {
        var columns = Features.Select(f => table.IndexOf(f.Name)).ToArray();
        var absent = Features.Where((_, i) => columns[i] < 0).Select(f => f.Name).ToList();
        if (absent.Count > 0)
            throw new TabularDataException($"The input has no column {string.Join(", ", absent.Select(a => $"'{a}'"))}; this model needs {string.Join(", ", FeatureNames)}. The input's columns: {string.Join(", ", table.Columns)}.", absent[0]);
        return columns;
    }

    public override string ToString() => $"TabularProcessor({Features.Count} columns → {Width} inputs{(EmbeddedInputs.Count > 0 ? $", {EmbeddedInputs.Count} of them embedded" : "")}; target {Target})";
}
