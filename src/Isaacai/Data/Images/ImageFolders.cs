using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Isaacai.Data.Images;

/// <summary>
/// Image datasets from files: a folder of class folders (split at random, stratified), a folder already split
/// into train and valid folders of class folders, or a table of paths and labels. Every file's header is
/// checked first, so a bad file is named before anything is built; channel statistics for normalization are
/// measured on the train split.
/// </summary>
public static class ImageFolders
{
    /// <summary>A labelled image: its path and its class name.</summary>
    public readonly record struct LabelledImage(string Path, string Label);

    /// <summary>A folder of class folders, or of <c>train</c> and <c>valid</c> folders of class folders.</summary>
    public static DatasetDict FromFolder(string folder, ImageDatasetOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        folder = Path.GetFullPath(folder);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException(File.Exists(folder) ? $"{folder} is a file; give a folder with one subfolder of images per class." : $"The folder {folder} does not exist.");
        string train = Path.Combine(folder, options.TrainFolder), valid = Path.Combine(folder, options.ValidFolder);
        if (Directory.Exists(train) && Directory.Exists(valid))
            return Build(ClassFolders(train), ClassFolders(valid), options, logger);
        if (Directory.Exists(train) != Directory.Exists(valid))
        {
            string have = Directory.Exists(train) ? options.TrainFolder : options.ValidFolder, lack = Directory.Exists(train) ? options.ValidFolder : options.TrainFolder;
            var others = Directory.GetDirectories(folder).Select(Path.GetFileName).Where(n => n != have).ToList();
            throw new InvalidDataException($"{folder} has a '{have}' folder but no '{lack}' folder beside it: give both (each holding one folder per class), or neither (one folder per class, split at random)."
                + (others.Count is > 0 and <= 3 ? $" Its other folder(s): {string.Join(", ", others.Select(o => $"'{o}'"))}; name the {(Directory.Exists(train) ? "valid" : "train")} one ({(Directory.Exists(train) ? "ValidFolder" : "TrainFolder")}) if it is one of them." : ""));
        }
        return Split(ClassFolders(folder), options, logger);
    }

    /// <summary>Rows of (path, label): relative paths are taken from <paramref name="baseFolder"/>.</summary>
    public static DatasetDict FromTable(IEnumerable<LabelledImage> rows, string baseFolder, ImageDatasetOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var items = new List<LabelledImage>();
        int row = 0;
        foreach (var (path, label) in rows)
        {
            row++;
            if (string.IsNullOrWhiteSpace(path)) throw new InvalidDataException($"Row {row} has no image path.");
            if (string.IsNullOrWhiteSpace(label)) throw new InvalidDataException($"Row {row} ({path}) has no label.");
            items.Add(new(Path.GetFullPath(path, Path.GetFullPath(baseFolder)), label.Trim()));
        }
        if (items.Count == 0) throw new InvalidDataException("The table has no rows.");
        return Split(items, options, logger);
    }

    /// <summary>The images under each class folder of <paramref name="folder"/>, the class named by its folder.</summary>
    private static List<LabelledImage> ClassFolders(string folder)
    {
        var classes = Directory.GetDirectories(folder).Order(StringComparer.Ordinal).ToList();
        if (classes.Count == 0)
            throw new InvalidDataException($"{folder} has no subfolders: put each class's images in a folder named after the class.");
        var items = new List<LabelledImage>();
        var empty = new List<string>();
        foreach (var classFolder in classes)
        {
            var images = Directory.EnumerateFiles(classFolder, "*", SearchOption.AllDirectories)
                .Where(f => ImageDecoder.Extensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal).ToList();
            if (images.Count == 0) empty.Add(Path.GetFileName(classFolder));
            items.AddRange(images.Select(f => new LabelledImage(f, Path.GetFileName(classFolder))));
        }
        if (empty.Count > 0)
            throw new InvalidDataException($"{folder}: the class folder(s) {string.Join(", ", empty.Select(e => $"'{e}'"))} hold no images ({ImageDecoder.FormatNames}, by their file endings). Add images or remove the folder(s).");
        return items;
    }

    private static DatasetDict Split(List<LabelledImage> items, ImageDatasetOptions options, ILogger? logger)
    {
        if (!(options.ValidFraction > 0 && options.ValidFraction < 1))
            throw new ArgumentOutOfRangeException(null, $"The valid fraction (ValidFraction) must be greater than 0 and less than 1; got {options.ValidFraction}.");
        items = Readable(items, options, logger);
        var classes = Classes(items);
        var classOf = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);
        var (train, valid) = StratifiedSplit.Of(Enumerable.Range(0, items.Count), i => classOf[items[i].Label], options.ValidFraction, options.Seed);
        if (train.Count == 0 || valid.Count == 0)
            throw new InvalidDataException($"Splitting {items.Count} images by {options.ValidFraction} leaves an empty {(train.Count == 0 ? "train" : "valid")} split; give more images or another valid fraction.");
        return Datasets(train.Select(i => items[i]).ToList(), valid.Select(i => items[i]).ToList(), classes, options, logger);
    }

    private static DatasetDict Build(List<LabelledImage> train, List<LabelledImage> valid, ImageDatasetOptions options, ILogger? logger)
    {
        train = Readable(train, options, logger);
        valid = Readable(valid, options, logger);
        var classes = Classes(train);
        var unknown = valid.Select(v => v.Label).Distinct().Where(l => !classes.Contains(l)).ToList();
        if (unknown.Count > 0)
            throw new InvalidDataException($"The valid folder has class(es) {string.Join(", ", unknown.Select(u => $"'{u}'"))} that the train folder lacks; the train classes are {string.Join(", ", classes)}.");
        if (valid.Count == 0) throw new InvalidDataException("The valid folder holds no readable images.");
        return Datasets(train, valid, classes, options, logger);
    }

    private static List<string> Classes(List<LabelledImage> items)
    {
        var classes = items.Select(i => i.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return classes.Count >= 2 ? classes
            : throw new InvalidDataException(classes.Count == 0 ? "There are no readable images." : $"All the images are of one class ('{classes[0]}'); a classifier needs at least two classes.");
    }

    /// <summary>The items whose files read as images; the others are an error naming them, or (with SkipUnreadable) left out with one warning.</summary>
    private static List<LabelledImage> Readable(List<LabelledImage> items, ImageDatasetOptions options, ILogger? logger)
    {
        logger ??= NullLogger.Instance;
        var problems = new ConcurrentDictionary<int, string>();
        Parallel.For(0, items.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Workers == 0 ? Environment.ProcessorCount : options.Workers) }, i =>
        {
            if (ImageDecoder.Problem(items[i].Path) is { } problem) problems[i] = problem;
        });
        if (problems.IsEmpty) return items;
        var bad = problems.OrderBy(p => p.Key).Select(p => $"{items[p.Key].Path} {p.Value}").ToList();
        if (!options.SkipUnreadable)
            throw new InvalidDataException($"{bad.Count} of {items.Count} file(s) cannot be used as images: {string.Join("; ", bad.Take(5))}{(bad.Count > 5 ? $"; and {bad.Count - 5} more" : "")}. "
                + $"Readable images are {ImageDecoder.FormatNames} files. Remove or replace them, or leave them out (SkipUnreadable).");
        logger.LogWarning("Left out {Count} of {Total} file(s) that cannot be used as images (the list is at Verbose).", bad.Count, items.Count);
        foreach (var line in bad) logger.LogDebug("Left out {File}", line);
        return items.Where((_, i) => !problems.ContainsKey(i)).ToList();
    }

    private static DatasetDict Datasets(List<LabelledImage> train, List<LabelledImage> valid, List<string> classes, ImageDatasetOptions options, ILogger? logger)
    {
        var classOf = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);
        var (pipeline, unreadable) = Measured(train.Select(t => t.Path).ToList(), options);
        if (unreadable.Count > 0)
        {
            // Damaged past their headers: found only now, when their pixels were decoded.
            var bad = unreadable.Select(e => $"{e.Path} {e.Problem}").ToList();
            if (!options.SkipUnreadable)
                throw new InvalidDataException($"{bad.Count} file(s) cannot be decoded: {string.Join("; ", bad.Take(5))}{(bad.Count > 5 ? $"; and {bad.Count - 5} more" : "")}. "
                    + $"Readable images are {ImageDecoder.FormatNames} files. Remove or replace them, or leave them out (SkipUnreadable).");
            (logger ?? NullLogger.Instance).LogWarning("Left out {Count} more train file(s) whose image data cannot be decoded (the list is at Verbose).", bad.Count);
            foreach (var line in bad) (logger ?? NullLogger.Instance).LogDebug("Left out {File}", line);
            var paths = unreadable.Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
            train = train.Where(t => !paths.Contains(t.Path)).ToList();
            if (train.Count == 0) throw new InvalidDataException("No train image can be decoded.");
        }
        (logger ?? NullLogger.Instance).LogDebug("Images: {Train} train, {Valid} valid, {Classes} classes; {Pipeline}", train.Count, valid.Count, classes.Count, pipeline);
        ImageDataset Of(List<LabelledImage> split, ImageAugmentation? augmentation) =>
            new(split.Select(s => s.Path).ToList(), split.Select(s => classOf[s.Label]).ToList(), pipeline, augmentation, options.Workers);
        return new DatasetDict
        {
            ["train"] = Of(train, options.Augmentation),
            ["valid"] = Of(valid, null),
            Target = TargetSpec.Classification("label", classes),
        };
    }

    /// <summary>
    /// The pipeline with each channel's mean and std, measured on up to StatisticsSamples train images spread evenly
    /// across the list, decoded a few at a time (a large image size must not need them all in memory at once);
    /// and the sampled files that could not be decoded.
    /// </summary>
    private static (ImagePipeline Pipeline, List<ImageFileException> Unreadable) Measured(List<string> train, ImageDatasetOptions options)
    {
        var raw = new ImagePipeline(options.Height, options.Width, options.Channels, options.Resize,
            Enumerable.Repeat(0.0, options.Channels).ToArray(), Enumerable.Repeat(1.0, options.Channels).ToArray());
        int count = Math.Min(train.Count, Math.Max(1, options.StatisticsSamples));
        var sample = Enumerable.Range(0, count).Select(i => train[(int)((long)i * train.Count / count)]).ToList();
        const int Chunk = 32;
        var buffer = new float[ImageBatches.BufferLength(Math.Min(Chunk, count), raw)];
        int plane = raw.Height * raw.Width, workers = options.Workers == 0 ? ImageDataset.DefaultWorkers : options.Workers;
        var sums = new double[raw.Channels];
        var squares = new double[raw.Channels];
        var unreadable = new List<ImageFileException>();
        long decoded = 0;
        foreach (var chunk in sample.Chunk(Chunk))
        {
            var errors = ImageBatches.DecodeAll(chunk, raw, buffer, workers, null, null, default);
            for (int s = 0; s < chunk.Length; s++)
            {
                if (errors[s] is { } error) { unreadable.Add(error); continue; }
                decoded++;
                for (int c = 0; c < raw.Channels; c++)
                    foreach (var v in buffer.AsSpan(s * raw.SampleLength + c * plane, plane)) { sums[c] += v; squares[c] += (double)v * v; }
            }
        }
        var mean = new double[raw.Channels];
        var std = new double[raw.Channels];
        double n = Math.Max(1, decoded) * (double)plane;
        for (int c = 0; c < raw.Channels; c++)
        {
            mean[c] = sums[c] / n;
            // A channel that never varies (an all-black set) would divide by zero: keep its scale.
            std[c] = Math.Sqrt(Math.Max(0, squares[c] / n - mean[c] * mean[c])) is var s2 && s2 > 1e-6 ? s2 : 1;
        }
        return (raw.WithNormalization(mean, std), unreadable);
    }
}
