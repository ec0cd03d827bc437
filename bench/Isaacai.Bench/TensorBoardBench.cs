using System.Diagnostics;
using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Metrics;
using Isaacai.Models;
using static TorchSharp.torch;

namespace Isaacai.Bench;

/// <summary>
/// What TensorBoardCB costs a fit: the shipped Fashion-MNIST sample (6,000 / 1,000), SimpleNet 784-64-10, Adam,
/// batch 64, 3 epochs a fit, torch at one thread, with BasicTrain, Metrics and Device: without TensorBoard, with
/// its scalars (every 10 batches, the default, and every batch), with parameter histograms too, and with the
/// predictions grid too. Every side runs once a round, in an order that rotates from round to round, so a drift in the machine's
/// speed hits them all; each side's time is divided by the same round's fit without TensorBoard, and the
/// median of those ratios is reported with the median seconds per epoch.
/// </summary>
internal static class TensorBoardBench
{
    private const int BatchSize = 64, Epochs = 3, Rounds = 11;

    public static void Run(TextWriter output)
    {
        set_num_threads(1);
        var sample = FashionMnist.LoadSample();
        var folder = Directory.CreateTempSubdirectory("isaacai-bench-tensorboard-").FullName;
        try
        {
            int run = 0;
            string NewLogDir() => Path.Combine(folder, $"run{run++}");
            var sides = new (string Name, Func<Callback?> Make)[]
            {
                ("without TensorBoard (the baseline)", () => null),
                ("scalars, every 10 batches (the default)", () => new TensorBoardCB(NewLogDir())),
                ("scalars, every batch", () => new TensorBoardCB(NewLogDir(), everyBatches: 1)),
                ("scalars + histograms", () => new TensorBoardCB(NewLogDir(), histograms: true)),
                ("scalars + predictions (16 images)", () => new TensorBoardCB(NewLogDir(), predictions: true)),
            };
            foreach (var side in sides) Fit(sample, side.Make()); // warm-up: JIT, allocator, fonts
            var seconds = sides.Select(_ => new List<double>()).ToArray();
            for (int round = 0; round < Rounds; round++)
                for (int k = 0; k < sides.Length; k++)
                {
                    int s = (k + round) % sides.Length;
                    seconds[s].Add(Fit(sample, sides[s].Make()));
                }
            output.WriteLine($"TensorBoard: Fashion-MNIST sample {sample["train"].Count}/{sample["test"].Count}, SimpleNet 784-64-10, Adam 1e-3, batch {BatchSize}, "
                + $"{Epochs} epochs a fit, 1 thread, {Rounds} rounds in rotating order; medians");
            output.WriteLine("| fit | per epoch | ratio to the baseline, same round |");
            output.WriteLine("| --- | ---: | ---: |");
            for (int s = 0; s < sides.Length; s++)
            {
                double ratio = Median(seconds[s].Zip(seconds[0], (t, baseline) => t / baseline).ToList());
                output.WriteLine($"| {sides[s].Name} | {Median(seconds[s]) / Epochs * 1000:F0} ms | {ratio:F3} |");
            }
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    private static double Fit(DatasetDict data, Callback? board)
    {
        Isaac.SetSeed(1);
        using var model = new SimpleNet(784, 64, 10);
        List<Callback> callbacks = [new BasicTrainCB(), new MetricsCB(("Accuracy", new MulticlassAccuracy())), new DeviceCB()];
        if (board is not null) callbacks.Add(board);
        var trainer = new Trainer(DataLoaders.FromDatasetDict(data, BatchSize), nn.CrossEntropyLoss(), Optimizers.Adam, model, callbacks, 1e-3);
        var clock = Stopwatch.StartNew();
        trainer.Fit(Epochs);
        return clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
