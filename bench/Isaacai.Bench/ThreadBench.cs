using System.Diagnostics;
using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Metrics;
using Isaacai.Models;
using static TorchSharp.torch;

namespace Isaacai.Bench;

/// <summary>
/// How libtorch's intra-op thread count changes the speed of a fit on the shipped Fashion-MNIST sample
/// (6,000 / 1,000), for SimpleNet and a ConvNet: 1 thread, 2 threads and all cores, on the machine as it is and
/// with one core more kept busy by a spinning thread (as another process would on a shared machine). The counts
/// alternate within each round so a drift in the machine's speed hits them all; medians are reported.
/// </summary>
internal static class ThreadBench
{
    private const int BatchSize = 64, Rounds = 5;

    public static void Run(TextWriter output)
    {
        var sample = FashionMnist.LoadSample();
        var counts = new[] { 1, 2, Environment.ProcessorCount }.Distinct().Order().ToArray();
        var models = new (string Name, int Epochs, Func<nn.Module<Tensor, Tensor>> Make)[]
        {
            ("SimpleNet 784-64-10", 3, () => new SimpleNet(784, 64, 10)),
            ("ConvNet 8-16-32-64", 1, () => new ConvNet(new ConvNetOptions())),
        };
        output.WriteLine($"Threads: Fashion-MNIST sample {sample["train"].Count}/{sample["test"].Count}, Adam 1e-3, batch {BatchSize}, {Environment.ProcessorCount} cores, median of {Rounds} fits each");
        output.WriteLine("| model | epochs | machine | " + string.Join(" | ", counts.Select(c => $"{c} thread{(c > 1 ? "s" : "")}")) + " |");
        output.WriteLine("| --- | ---: | --- | " + string.Join(" | ", counts.Select(_ => "---:")) + " |");
        foreach (var (name, epochs, make) in models)
        {
            Fit(make, sample, epochs: 1, threads: 1); // warm-up: JIT and allocator
            foreach (var busy in new[] { false, true })
            {
                using var spinner = busy ? new Spinner() : null;
                var seconds = counts.ToDictionary(c => c, _ => new List<double>());
                for (int round = 0; round < Rounds; round++)
                    foreach (var threads in round % 2 == 0 ? counts : counts.Reverse())
                        seconds[threads].Add(Fit(make, sample, epochs, threads));
                output.WriteLine($"| {name} | {epochs} | {(busy ? "+ one core busy" : "as found")} | "
                    + string.Join(" | ", counts.Select(c => $"{Median(seconds[c]):F2} s ({seconds[c].Min():F2}–{seconds[c].Max():F2})")) + " |");
            }
        }
        set_num_threads(1);
    }

    private static double Fit(Func<nn.Module<Tensor, Tensor>> make, DatasetDict data, int epochs, int threads)
    {
        set_num_threads(threads);
        Isaac.SetSeed(1);
        using var model = make();
        var trainer = new Trainer(DataLoaders.FromDatasetDict(data, BatchSize), nn.CrossEntropyLoss(), Optimizers.Adam, model,
            [new BasicTrainCB(), new MetricsCB(("Accuracy", new MulticlassAccuracy())), new DeviceCB()], 1e-3);
        var clock = Stopwatch.StartNew();
        trainer.Fit(epochs);
        return clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>Keeps one core busy, as another process on a shared machine does, until disposed.</summary>
    private sealed class Spinner : IDisposable
    {
        private volatile bool stop;
        private readonly Thread thread;

        public Spinner()
        {
            thread = new Thread(() => { while (!stop) Thread.SpinWait(1000); }) { IsBackground = true };
            thread.Start();
        }

        public void Dispose() { stop = true; thread.Join(); }
    }
}
