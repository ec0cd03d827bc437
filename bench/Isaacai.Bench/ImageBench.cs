using System.Diagnostics;
using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Data.Images;
using Isaacai.Models;
using static TorchSharp.torch;

namespace Isaacai.Bench;

/// <summary>
/// Training from image files against training from the same prepared images held in memory: the shipped
/// Fashion-MNIST sample's train images written as PNG files in class folders, read at 64×64 by an
/// ImageDataset (decoded by worker threads ahead of the loop), and the same images decoded once into a
/// TensorDataset. The small ConvNet, Adam, batch 64, one train epoch a fit, torch at one thread; fits run
/// in adjacent pairs alternating which goes first, and the median of the pairs' ratios is reported.
/// </summary>
internal static class ImageBench
{
    private const int BatchSize = 64, Side = 64, Images = 2000, Pairs = 7;

    public static void Run(TextWriter output)
    {
        set_num_threads(1);
        var folder = Directory.CreateTempSubdirectory("isaacai-bench-images-").FullName;
        try
        {
            var sample = FashionMnist.LoadSample();
            var train = (TensorDataset)sample["train"];
            ImageFiles.SaveAll(train.X, train.Y.data<long>().ToArray(), sample.Target!.Classes, folder, ".png", FashionMnist.Mean, FashionMnist.Std, Images);
            var options = new ImageDatasetOptions { Height = Side, Width = Side, Channels = 1, ValidFraction = 0.1 };
            foreach (var augmentation in new[] { null, ImageAugmentation.Default })
            {
                var files = ImageFolders.FromFolder(folder, options with { Augmentation = augmentation });
                var fileTrain = (ImageDataset)files["train"];
                var inMemory = new TensorDataset(fileTrain.LoadInputs(Enumerable.Range(0, (int)fileTrain.Count).Select(i => (long)i).ToList()), tensor(fileTrain.Labels.ToArray()));
                var memoryDict = new DatasetDict { ["train"] = inMemory, ["valid"] = files["valid"], Target = files.Target };
                double Fit(DatasetDict data)
                {
                    Isaac.SetSeed(1);
                    using var model = new ConvNet(new ConvNetOptions(1, null, 10));
                    var trainer = new Trainer(DataLoaders.FromDatasetDict(data, BatchSize), nn.CrossEntropyLoss(), Optimizers.Adam, model, [new BasicTrainCB()]);
                    var clock = Stopwatch.StartNew();
                    trainer.Fit(1, valid: false);
                    return clock.Elapsed.TotalSeconds;
                }
                Fit(files); Fit(memoryDict); // warm-up
                var fromFiles = new List<double>(); var fromMemory = new List<double>();
                for (int pair = 0; pair < Pairs; pair++)
                {
                    if (pair % 2 == 0) { fromFiles.Add(Fit(files)); fromMemory.Add(Fit(memoryDict)); }
                    else { fromMemory.Add(Fit(memoryDict)); fromFiles.Add(Fit(files)); }
                }
                double ratio = fromMemory.Zip(fromFiles, (m, f) => m / f).Order().ElementAt(Pairs / 2);
                double Rate(List<double> s) => fileTrain.Count / s.Order().ElementAt(Pairs / 2);
                output.WriteLine($"ConvNet 8-16-32-64 at {Side}×{Side}, {fileTrain.Count} train PNGs{(augmentation is null ? "" : ", augmented")}, {fileTrain.Workers} decoding worker(s), torch 1 thread: " +
                    $"from memory {Rate(fromMemory):F0} images/s, from files {Rate(fromFiles):F0} images/s; files/memory {ratio:F3} (median of {Pairs} pairs; target >= 0.85)");
                inMemory.Dispose();
            }
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
