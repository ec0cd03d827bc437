using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Isaacai.Data;
using Isaacai.Data.Tabular;
using Isaacai.IO;
using Microsoft.Extensions.Logging;
using nietras.SeparatedValues;
using Parquet;
using Parquet.Schema;

namespace Isaacai.Inference;

/// <summary>
/// Predictions for every row of a CSV, TSV or Parquet file, written to a CSV or TSV file: each input row as it
/// was, then Prediction (and, for classes, Probability). Rows are read, encoded and predicted a chunk at a time,
/// so memory stays the same whatever the file's length. A bad row is one error naming the file and line, and the
/// output file is then not written at all (nor is an existing one touched).
/// </summary>
public static class TabularFilePredictions
{
    public const int DefaultChunkRows = 8192;

    /// <summary>
    /// Predicts <paramref name="input"/> into <paramref name="output"/>; returns how many rows were predicted. A column
    /// of the model's that the file lacks is filled in, if the model fills in missing values, and said to <paramref name="logger"/> as a warning.
    /// </summary>
    public static long Predict(Predictor predictor, string input, string output, int chunkRows = DefaultChunkRows, CancellationToken cancel = default, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        var processor = predictor.Processor ?? throw new InvalidOperationException("This model was not trained on a table, so it cannot read a table's rows.");
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkRows, 1);
        var outputKind = Path.GetExtension(output).ToLowerInvariant();
        if (outputKind is not (".csv" or ".tsv"))
            throw new InvalidDataException($"{output}: predictions are written to a .csv or .tsv file; '{outputKind}' is neither.");
        char separator = outputKind == ".tsv" ? '\t' : ',';
        long rows = 0;
        AtomicFile.Write(output, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            var sink = new PredictionWriter(writer, separator, processor.Target);
            rows = TabularFile.IsParquet(input)
                ? FromParquet(predictor, processor, input, sink, cancel, logger)
                : FromSeparated(predictor, processor, input, sink, separator, chunkRows, cancel, logger);
        });
        return rows;
    }

    /// <summary>Where each feature is in the file's columns; -1 for one the file lacks, which is a missing value if the model fills one in.</summary>
    private static int[] FeaturePlaces(TabularProcessor processor, IReadOnlyList<string> header, string path, ILogger? logger)
    {
        var places = new int[processor.Features.Count];
        for (int i = 0; i < places.Length; i++)
        {
            var feature = processor.Features[i];
            places[i] = Enumerable.Range(0, header.Count).FirstOrDefault(c => string.Equals(header[c], feature.Name, StringComparison.OrdinalIgnoreCase), -1);
            if (places[i] < 0 && feature.Fill is null)
                throw new TabularDataException($"{path}: there is no column '{feature.Name}'; this model needs {string.Join(", ", processor.FeatureNames)}, and was trained with MissingValue {processor.MissingValue}, which fills nothing in. The file's columns are: {string.Join(", ", header)}.", feature.Name);
        }
        if (places.All(place => place < 0))
            throw new TabularDataException($"{path}: none of this model's columns ({string.Join(", ", processor.FeatureNames)}) is in the file, so every row would be predicted from filled-in values alone. The file's columns are: {string.Join(", ", header)}.");
        var filled = processor.Features.Where((_, i) => places[i] < 0).Select(f => $"'{f.Name}' (filled with {f.Fill})").ToArray();
        if (filled.Length > 0)
            logger?.LogWarning("{Path} lacks this model's {Columns} {Filled}: each row's value is missing, and filled in as in training (MissingValue {Policy}). The file's columns are: {Header}.",
                path, filled.Length == 1 ? "column" : "columns", string.Join(", ", filled), processor.MissingValue, string.Join(", ", header));
        foreach (var name in PredictionWriter.Columns(processor.Target))
            if (header.Contains(name, StringComparer.OrdinalIgnoreCase))
                throw new InvalidDataException($"{path}: the file already has a column '{name}', which the predictions would write; rename it.");
        return places;
    }

    private static long FromSeparated(Predictor predictor, TabularProcessor processor, string path, PredictionWriter sink, char separator, int chunkRows, CancellationToken cancel, ILogger? logger)
    {
        using var reader = TabularFile.OpenSeparated(path);
        var header = TabularFile.HeaderOf(reader, path);
        var places = FeaturePlaces(processor, header, path, logger);
        bool sameSeparator = separator == TabularFile.SeparatorOf(path);
        sink.WriteHeader(header);
        var modes = processor.Features.Select(f => f.Kind == FeatureKind.Numeric ? TabularFile.CellMode.NumbersOrText : TabularFile.CellMode.Text).ToArray();
        // The file is read and parsed a chunk ahead, on a thread of its own, while this one encodes, predicts and writes
        // the chunk before. Chunks go in order, so the first bad line still gives the error: the reader stops at its own,
        // after the chunks before it, and one found here first stops the reader.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var ready = new BlockingCollection<Chunk>(boundedCapacity: 2);
        using var free = new BlockingCollection<RawRows>();
        for (int i = 0; i < 3; i++) free.Add(new RawRows(chunkRows));
        Chunk NextChunk() => new(modes.Select(m => new TabularFile.ColumnBuilder(m, chunkRows)).ToArray(), free.Take(stop.Token));
        var reading = Task.Run(() =>
        {
            try
            {
                var chunk = NextChunk();
                string[]? fields = sameSeparator ? null : new string[header.Length];
                foreach (var row in reader)
                {
                    if (!TabularFile.CheckWidth(row, header, path)) continue;
                    int at = chunk.Raw.Count;
                    for (int i = 0; i < places.Length; i++)
                        if (places[i] >= 0) chunk.Columns[i].Add(at, row[places[i]].Span, path, row.LineNumberFrom, header[places[i]]);
                    if (sameSeparator) chunk.Raw.Add(row.Span, row.LineNumberFrom);
                    else
                    {
                        for (int c = 0; c < fields!.Length; c++) fields[c] = TabularFile.Unquote(row[c].Span, path, row.LineNumberFrom, $"column '{header[c]}'");
                        chunk.Raw.Add(sink.Join(fields), row.LineNumberFrom);
                    }
                    if (chunk.Raw.Count == chunkRows)
                    {
                        ready.Add(chunk, stop.Token);
                        chunk = NextChunk();
                    }
                }
                if (chunk.Raw.Count > 0) ready.Add(chunk, stop.Token);
            }
            finally { ready.CompleteAdding(); }
        });
        long done = 0;
        try
        {
            foreach (var chunk in ready.GetConsumingEnumerable(stop.Token))
            {
                done += PredictChunk(predictor, processor, chunk.Columns.Select(c => c.Column(chunk.Raw.Count)).ToArray(), chunk.Raw.Count, done, chunk.Raw, path, sink, cancel);
                free.Add(chunk.Raw);
            }
        }
        catch
        {
            stop.Cancel();
            try { reading.Wait(); } catch (AggregateException) { } // its own error, from a later line, or its cancellation
            throw;
        }
        reading.GetAwaiter().GetResult(); // the reader's error (a malformed line), after every chunk before it
        return done;
    }

    /// <summary>A chunk of rows as the reader hands them over: the cells of the model's features, and the rows as written.</summary>
    private sealed record Chunk(TabularFile.ColumnBuilder[] Columns, RawRows Raw);

    private static long FromParquet(Predictor predictor, TabularProcessor processor, string path, PredictionWriter sink, CancellationToken cancel, ILogger? logger)
    {
        var parquet = TabularFile.OpenParquet(path, cancel);
        try
        {
            var fields = TabularFile.ParquetFields(parquet, path);
            var header = fields.Select(f => f.Name).ToArray();
            var places = FeaturePlaces(processor, header, path, logger);
            sink.WriteHeader(header);
            long done = 0;
            for (int g = 0; g < parquet.RowGroupCount; g++)
            {
                using var group = parquet.OpenRowGroupReader(g);
                int count = checked((int)group.RowCount);
                var values = fields.Select(field =>
                {
                    var column = new object?[count];
                    TabularFile.ReadParquetColumn(group, field, column, 0, path, cancel);
                    return column;
                }).ToArray();
                var raw = new RawRows(count);
                var cells = new string[fields.Length];
                for (int r = 0; r < count; r++)
                {
                    for (int c = 0; c < cells.Length; c++) cells[c] = values[c][r] is null ? "" : TabularValues.Text(values[c][r]);
                    raw.Add(sink.Join(cells), line: null);
                }
                var columns = places.Select(p => p >= 0 ? values[p] : new object?[count]).ToArray<object>();
                done += PredictChunk(predictor, processor, columns, count, done, raw, path, sink, cancel);
            }
            return done;
        }
        finally { parquet.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }

    /// <summary>Encodes, predicts and writes one chunk; an encoding error names the file and the row's line.</summary>
    private static long PredictChunk(Predictor predictor, TabularProcessor processor, object[] columns, int count, long before,
        RawRows raw, string path, PredictionWriter sink, CancellationToken cancel)
    {
        cancel.ThrowIfCancellationRequested();
        var table = new TabularTable(processor.FeatureNames.ToArray(), columns, count);
        PredictionBatch predictions;
        try
        {
            using var inputs = processor.Transform(table, null, before + 1);
            predictions = predictor.PredictBatch(inputs, Predictor.DefaultBatchSize);
        }
        catch (TabularDataException e) when (e.Row is { } row)
        {
            var where = raw.LineOf((int)(row - before - 1)) is { } line ? $"line {line}" : $"row {row}";
            throw new InvalidDataException($"{path}, {where}: {e.Message}", e);
        }
        for (int r = 0; r < count; r++) sink.WriteRow(raw[r], predictions, r);
        raw.Clear();
        return count;
    }

    /// <summary>A chunk's input rows as they were written, in one buffer (no string per row), with the line each starts on in the file.</summary>
    private sealed class RawRows(int rows)
    {
        private char[] _chars = new char[rows * 64];
        private readonly int[] _ends = new int[rows];
        private readonly int[] _lines = new int[rows];

        public int Count { get; private set; }

        public void Add(ReadOnlySpan<char> row, int? line)
        {
            int start = Count == 0 ? 0 : _ends[Count - 1];
            if (start + row.Length > _chars.Length) Array.Resize(ref _chars, Math.Max(2 * _chars.Length, start + row.Length));
            row.CopyTo(_chars.AsSpan(start));
            _lines[Count] = line ?? 0;
            _ends[Count++] = start + row.Length;
        }

        public ReadOnlySpan<char> this[int row] => _chars.AsSpan(row == 0 ? 0 : _ends[row - 1], _ends[row] - (row == 0 ? 0 : _ends[row - 1]));

        /// <summary>The line in the file; null for a row of a file without lines (Parquet).</summary>
        public int? LineOf(int row) => _lines[row] > 0 ? _lines[row] : null;

        public void Clear() => Count = 0;
    }

    /// <summary>Writes the output file: the input's columns as they were, then the prediction's.</summary>
    private sealed class PredictionWriter(TextWriter writer, char separator, TargetSpec target)
    {
        /// <summary>Each class's name as written: its label's text, quoted where RFC 4180 needs it.</summary>
        private readonly string[] _classes = target.Task == TaskKind.Classification
            ? Enumerable.Range(0, target.Classes.Count).Select(c => Join([Convert.ToString(target.Label(c), CultureInfo.InvariantCulture) ?? ""], separator)).ToArray()
            : [];

        public static IEnumerable<string> Columns(TargetSpec target) =>
            target.Task == TaskKind.Classification ? ["Prediction", "Probability"] : ["Prediction"];

        public void WriteHeader(IReadOnlyList<string> header) => writer.WriteLine(Join([.. header, .. Columns(target)]));

        /// <summary>The row as it was, then its class and probability, or its number.</summary>
        public void WriteRow(ReadOnlySpan<char> raw, PredictionBatch predictions, int row)
        {
            writer.Write(raw);
            writer.Write(separator);
            if (predictions.ClassIndex(row) is { } best)
            {
                writer.Write(_classes[best]);
                writer.Write(separator);
                WriteNumber(predictions.Probability(row)!.Value);
            }
            else WriteNumber(predictions.Values(row).Span[0]);
            writer.WriteLine();
        }

        /// <summary>As <c>ToString("R")</c> writes it, without a string.</summary>
        private void WriteNumber(double value)
        {
            Span<char> text = stackalloc char[32];
            value.TryFormat(text, out int length, "R", CultureInfo.InvariantCulture);
            writer.Write(text[..length]);
        }

        /// <summary>Fields joined by the separator, each quoted where RFC 4180 needs it.</summary>
        public string Join(IReadOnlyList<string> fields) => Join(fields, separator);

        private static string Join(IReadOnlyList<string> fields, char separator)
        {
            var line = new StringBuilder();
            for (int i = 0; i < fields.Count; i++)
            {
                if (i > 0) line.Append(separator);
                var field = fields[i];
                if (field.AsSpan().IndexOfAny([separator, '"', '\n', '\r']) < 0) line.Append(field);
                else line.Append('"').Append(field.Replace("\"", "\"\"")).Append('"');
            }
            return line.ToString();
        }
    }
}
