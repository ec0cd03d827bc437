using System.Diagnostics;
using Isaacai;
using Isaacai.Bench;
using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Metrics;
using Isaacai.Models;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

// Benchmarks the callback trainer against a hand-written TorchSharp loop in the same process, measures
// resident memory over a long fit, times fits at 1, 2 and all threads (`threads`, on the shipped
// sample, needs no download), trains from image files against the same images in memory (`images`), times TensorBoard's logging (`tensorboard`, on the full set), and exports every architecture to ONNX and runs it in ONNX Runtime (`onnx`). Also makes the shipped Fashion-MNIST sample.
using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
var logger = loggerFactory.CreateLogger("Isaacai.Bench");
var command = args.FirstOrDefault() ?? "all";
string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
Isaacai.Runtime.NativeHeap.Tune(); // as the module does at import; both sides of every comparison run in this process

if (command == "make-sample")
{
    var target = Option("--out") ?? throw new ArgumentException("make-sample needs --out <folder>.");
    var source = Option("--source") ?? FashionMnist.DefaultCacheFolder;
    FashionMnist.Load(source, logger).Values.ToList().ForEach(split => split.Dispose()); // fetches when missing
    FashionMnist.WriteSample(source, target, trainCount: 6000, testCount: 1000, seed: 42);
    Console.WriteLine($"Wrote a 6000/1000 sample of {source} to {target}");
    return 0;
}

if (command is "all" or "threads")
{
    ThreadBench.Run(Console.Out);
    if (command == "threads") return 0;
}

if (command == "resnet18-step")
{
    int Int(string name, int fallback) => int.Parse(Option(name) ?? fallback.ToString());
    VisionStepBench.Run(Int("--steps", 10), Int("--warmup", 2), Int("--size", 64), Int("--batch", 64), Console.Out);
    return 0;
}

if (command == "convnet-step")
{
    ConvNetStepBench.Run(int.Parse(Option("--steps") ?? "200"), int.Parse(Option("--warmup") ?? "20"), Option("--optimizer") ?? "Adam", Console.Out);
    return 0;
}

if (command is "all" or "images")
{
    ImageBench.Run(Console.Out);
    if (command == "images") return 0;
}

if (command is "all" or "tensorboard")
{
    TensorBoardBench.Run(Console.Out, Option("--data"));
    if (command == "tensorboard") return 0;
}

if (command is "all" or "onnx")
{
    OnnxBench.Run(Option("--out"), Console.Out);
    if (command == "onnx") return 0;
}

set_num_threads(1);
var data = FashionMnist.Load(Option("--data"), logger);

if (command == "convnet-fit")
{
    ConvNetStepBench.Fit(data, Option("--optimizer") ?? "Adam", int.Parse(Option("--seed") ?? "1"), Console.Out);
    return 0;
}
const int BatchSize = 64, Epochs = 3, Repeats = 9;
const double Lr = 1e-3;
long samplesPerFit = (data["train"].Count + data["test"].Count) * Epochs;
Console.WriteLine($"Fashion-MNIST: {data["train"].Count} train, {data["test"].Count} valid; SimpleNet 784-64-10, Adam {Lr}, batch {BatchSize}, {Epochs} epochs, 1 thread");

if (command is "all" or "steps")
{
    StepCostBench.Run(data, Console.Out);
    if (command == "steps") return 0;
}

if (command == "convnet-steps")
{
    StepCostBench.Run(data, Console.Out, convNet: true);
    return 0;
}

if (command is "all" or "speed")
{
    double TimeHand() { Isaac.SetSeed(1); using var m = new SimpleNet(784, 64, 10); return Time(() => HandLoop.Fit(m, data, BatchSize, Epochs, Lr)); }
    double TimeTrainer()
    {
        Isaac.SetSeed(1);
        using var m = new SimpleNet(784, 64, 10);
        var trainer = new Trainer(DataLoaders.FromDatasetDict(data, BatchSize), nn.CrossEntropyLoss(), Optimizers.Adam, m,
            [new BasicTrainCB(), new MetricsCB(("Accuracy", new MulticlassAccuracy())), new DeviceCB()], Lr);
        return Time(() => trainer.Fit(Epochs));
    }
    TimeHand(); TimeTrainer(); // warm-up: JIT and allocator
    // Runs in adjacent pairs, alternating which goes first, so a drift in the machine's speed hits both sides.
    var hand = new List<double>(); var cb = new List<double>();
    for (int r = 0; r < Repeats; r++)
    {
        if (r % 2 == 0) { hand.Add(TimeHand()); cb.Add(TimeTrainer()); }
        else { cb.Add(TimeTrainer()); hand.Add(TimeHand()); }
    }
    double handRate = samplesPerFit / Median(hand), trainerRate = samplesPerFit / Median(cb);
    double pairedRatio = Median(hand.Zip(cb, (h, c) => h / c).ToList());
    Console.WriteLine($"hand-written loop: {handRate,10:F0} samples/s (median of {Repeats}: {string.Join(", ", hand.Select(s => s.ToString("F2")))} s)");
    Console.WriteLine($"callback trainer:  {trainerRate,10:F0} samples/s (median of {Repeats}: {string.Join(", ", cb.Select(s => s.ToString("F2")))} s)");
    // Interference on a shared machine only ever adds time, so the best runs estimate each side's own cost.
    Console.WriteLine($"speed ratio (trainer / hand): {pairedRatio:F3} median of paired runs, {hand.Min() / cb.Min():F3} of best runs (target >= 0.95)");
}

if (command is "all" or "memory")
{
    int epochs = int.Parse(Option("--epochs") ?? "20");
    Isaac.SetSeed(1);
    using var m = new SimpleNet(784, 64, 10);
    var rss = new RssCB();
    var trainer = new Trainer(DataLoaders.FromDatasetDict(data, BatchSize), nn.CrossEntropyLoss(), Optimizers.Adam, m,
        [new BasicTrainCB(), new MetricsCB(("Accuracy", new MulticlassAccuracy())), new DeviceCB(), rss], Lr);
    trainer.Fit(epochs);
    double at2 = rss.MegabytesAfterEpoch[1], atLast = rss.MegabytesAfterEpoch[^1];
    Console.WriteLine($"RSS after epoch 2: {at2:F1} MB; after epoch {epochs}: {atLast:F1} MB; growth {atLast - at2:F1} MB (target within 20 MB)");
    Console.WriteLine($"accuracy after {epochs} epochs: {trainer.Callbacks.OfType<MetricsCB>().Single().Records[^1].Metrics["Accuracy"]:F4}");
}
return 0;

static double Time(Action fit)
{
    var clock = Stopwatch.StartNew();
    fit();
    return clock.Elapsed.TotalSeconds;
}

static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

/// <summary>Resident set size after each full epoch (after its valid phase), in MB.</summary>
internal sealed class RssCB : Callback
{
    public List<double> MegabytesAfterEpoch { get; } = [];

    public override void AfterEpoch(Trainer trainer)
    {
        if (trainer.Training) return;
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        MegabytesAfterEpoch.Add(long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0);
    }
}
