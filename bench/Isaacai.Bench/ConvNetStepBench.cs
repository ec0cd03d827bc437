using System.Diagnostics;
using System.Text.Json;
using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Metrics;
using Isaacai.Models;
using Isaacai.Runtime;
using static TorchSharp.torch;

namespace Isaacai.Bench;

/// <summary>
/// Isaacai's side of the ConvNet benchmark against PyTorch (bench/PeerBench.ps1 -Case convnet): <c>New-IsaacConvNet</c>'s default
/// ConvNet (8-16-32-64, 28×28 grayscale, 10 classes) trained on one batch of 64 random images with Adam 1e-3, torch at
/// one thread; the median forward (with the loss), backward and step times over <c>steps</c> after <c>warmup</c>,
/// printed as one JSON line, as the PyTorch peer prints its own.
/// </summary>
internal static class ConvNetStepBench
{
    public static void Run(int steps, int warmup, string optimizer, TextWriter output)
    {
        set_num_threads(1);
        TorchRuntime.DisableNnpack(); // as the module does
        Isaac.SetSeed(1);
        using var model = new ConvNet(new ConvNetOptions());
        model.train();
        using var loss = nn.CrossEntropyLoss();
        using var opt = Optimizers.FromName(optimizer)(model.parameters(), 1e-3);
        var x = randn(64, 1, 28, 28);
        var y = randint(0, 10, [64]);
        var (forward, backward, step) = (new List<double>(), new List<double>(), new List<double>());
        // The loop a PyTorch user writes (bench/peers/convnet_train_step.py does the same), so the figure compares
        // the two runtimes' operations, and the flat optimizer's step against torch.optim.Adam's.
        for (int i = 0; i < warmup + steps; i++)
        {
            using var scope = NewDisposeScope();
            long t0 = Stopwatch.GetTimestamp();
            var value = loss.call(model.call(x), y);
            long t1 = Stopwatch.GetTimestamp();
            value.backward();
            long t2 = Stopwatch.GetTimestamp();
            opt.step();
            opt.zero_grad();
            long t3 = Stopwatch.GetTimestamp();
            if (i < warmup) continue;
            forward.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
            backward.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
            step.Add(Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds);
        }
        static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        output.WriteLine(JsonSerializer.Serialize(new { side = "isaacai", forward_ms = Median(forward), backward_ms = Median(backward), step_ms = Median(step),
            seconds_per_step = (Median(forward) + Median(backward) + Median(step)) / 1000 }));
    }

    /// <summary>
    /// Isaacai's side of the ConvNet job: the trainer fits the default ConvNet on Fashion-MNIST for one epoch (batch 64,
    /// Adam 1e-3) and validates on the test set, torch at one thread; prints the fit's seconds and the valid accuracy.
    /// </summary>
    public static void Fit(DatasetDict data, string optimizer, int seed, TextWriter output)
    {
        set_num_threads(1);
        TorchRuntime.DisableNnpack();
        Isaac.SetSeed(seed);
        using var model = new ConvNet(new ConvNetOptions());
        var metrics = new MetricsCB(("Accuracy", new MulticlassAccuracy()));
        var trainer = new Trainer(DataLoaders.FromDatasetDict(data, 64), nn.CrossEntropyLoss(), Optimizers.FromName(optimizer), model,
            [new BasicTrainCB(), metrics, new DeviceCB()], 1e-3);
        var clock = Stopwatch.StartNew();
        trainer.Fit(1);
        output.WriteLine(JsonSerializer.Serialize(new { side = "isaacai", optimizer, seconds = clock.Elapsed.TotalSeconds, accuracy = metrics.Records[^1].Metrics["Accuracy"] }));
    }
}
