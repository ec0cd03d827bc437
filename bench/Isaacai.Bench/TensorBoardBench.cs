using System.Diagnostics;
using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Metrics;
using Isaacai.Models;
using static TorchSharp.torch;

namespace Isaacai.Bench;

/// <summary>
/// What TensorBoardCB costs a fit: full Fashion-MNIST (60,000 / 10,000; fetched once into the cache), SimpleNet
/// 784-64-10, Adam, batch 64, one epoch a fit, torch at one thread, with BasicTrain, Metrics and Device: without TensorBoard, with
/// its scalars (every 10 batches, the default, and every batch), with parameter histograms too, and with the
/// predictions grid too. Every side runs once a round, in an order that rotates from round to round, so a drift in the machine's
/// speed hits them all; each side's time is compared with the same round's fit without TensorBoard (ratio and
/// difference), and the medians over the rounds are reported with the median time per epoch.
/// </summary>
internal static class TensorBoardBench
{
    private const int BatchSize = 64, Epochs = 1, Rounds = 7;

    public static void Run(TextWriter output, string? dataFolder)
    {
        set_num_threads(1);
        var data = FashionMnist.Load(dataFolder);
        var folder = Directory.CreateTempSubdirectory("isaacai-bench-tensorboard-").FullName;
        try
        {
            int run = 0;
            string NewLogDir() => Path.Combine(folder, $"run{run++}");
            var sides = new (string Name, Func<TimedTensorBoardCB?> Make)[]
            {
                ("without TensorBoard (the baseline)", () => null),
                ("scalars, every 10 batches (the default)", () => new TimedTensorBoardCB(NewLogDir())),
                ("scalars, every batch", () => new TimedTensorBoardCB(NewLogDir(), everyBatches: 1)),
                ("scalars + histograms", () => new TimedTensorBoardCB(NewLogDir(), histograms: true)),
                ("scalars + predictions (16 images)", () => new TimedTensorBoardCB(NewLogDir(), predictions: true)),
            };
            foreach (var side in sides) Fit(data, side.Make()); // warm-up: JIT, allocator, fonts
            var seconds = sides.Select(_ => new List<double>()).ToArray();
            var inHooks = sides.Select(_ => new List<double>()).ToArray();
            for (int round = 0; round < Rounds; round++)
                for (int k = 0; k < sides.Length; k++)
                {
                    int s = (k + round) % sides.Length;
                    var board = sides[s].Make();
                    seconds[s].Add(Fit(data, board));
                    inHooks[s].Add(board?.Seconds ?? 0);
                }
            output.WriteLine($"TensorBoard: Fashion-MNIST {data["train"].Count}/{data["test"].Count}, SimpleNet 784-64-10, Adam 1e-3, batch {BatchSize}, "
                + $"{Epochs} epoch a fit, 1 thread, {Rounds} rounds in rotating order; medians");
            // The fits' own times swing by more than TensorBoard costs on a shared machine; the time spent inside its
            // hooks is measured directly and put against the baseline's epoch, beside the fits' paired ratio.
            output.WriteLine("| fit | per epoch | in TensorBoard's hooks per epoch | ratio: baseline + hooks / baseline | ratio of whole fits, same round |");
            output.WriteLine("| --- | ---: | ---: | ---: | ---: |");
            double baselineEpoch = Median(seconds[0]) / Epochs;
            for (int s = 0; s < sides.Length; s++)
            {
                double hooks = Median(inHooks[s]) / Epochs;
                double paired = Median(seconds[s].Zip(seconds[0], (t, baseline) => t / baseline).ToList());
                output.WriteLine($"| {sides[s].Name} | {Median(seconds[s]) / Epochs * 1000:F0} ms | {hooks * 1000:F1} ms | {(baselineEpoch + hooks) / baselineEpoch:F3} | {paired:F3} |");
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

    /// <summary>TensorBoardCB with the time spent in its hooks added up.</summary>
    private sealed class TimedTensorBoardCB(string logDir, int everyBatches = 10, bool histograms = false, bool predictions = false)
        : TensorBoardCB(logDir, everyBatches, histograms, predictions)
    {
        private readonly Stopwatch _clock = new();

        public double Seconds => _clock.Elapsed.TotalSeconds;

        public override void BeforeFit(Trainer trainer) => Timed(base.BeforeFit, trainer);
        public override void BeforeEpoch(Trainer trainer) => Timed(base.BeforeEpoch, trainer);
        public override void AfterBatch(Trainer trainer) => Timed(base.AfterBatch, trainer);
        public override void AfterEpoch(Trainer trainer) => Timed(base.AfterEpoch, trainer);

        private void Timed(Action<Trainer> hook, Trainer trainer)
        {
            _clock.Start();
            try { hook(trainer); }
            finally { _clock.Stop(); }
        }
    }
}
