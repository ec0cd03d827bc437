using System.Diagnostics;
using System.Text.Json;
using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Models.Vision;
using static TorchSharp.torch;

namespace Isaacai.Bench;

/// <summary>
/// Isaacai's side of the resnet18 benchmark (bench/PeerBench.ps1 -Case resnet18): resnet18 (TorchVision's, 10 classes) trained by
/// the callback trainer on one batch of random 3×64×64 images, Adam 1e-3, torch at one thread; the median time of a
/// training step over <c>steps</c> after <c>warmup</c>, printed as one JSON line, as the PyTorch peer prints its own.
/// </summary>
internal static class VisionStepBench
{
    public static void Run(int steps, int warmup, int size, int batch, TextWriter output)
    {
        set_num_threads(1);
        Isaac.SetSeed(1);
        using var model = new VisionModel(new VisionModelOptions("resnet18", 10));
        var x = randn(batch, 3, size, size);
        var y = randint(0, 10, [batch]);
        var data = new DatasetDict { ["train"] = new TensorDataset(x.repeat(warmup + steps, 1, 1, 1), y.repeat(warmup + steps)), ["valid"] = new TensorDataset(x, y) };
        var timer = new StepTimer(warmup);
        var trainer = new Trainer(new DataLoaders(new DataLoader(data["train"], batch, shuffle: false), new DataLoader(data["valid"], batch, shuffle: false)),
            nn.CrossEntropyLoss(), Optimizers.Adam, model, [new BasicTrainCB(), timer]);
        trainer.Fit(1, valid: false);
        var median = timer.Seconds.Order().ElementAt(timer.Seconds.Count / 2);
        output.WriteLine(JsonSerializer.Serialize(new { side = "isaacai", seconds_per_step = median }));
    }

    /// <summary>The time of each train batch after the first <paramref name="warmup"/>, from before_batch to after_batch.</summary>
    private sealed class StepTimer(int warmup) : Callback
    {
        private readonly Stopwatch _clock = new();
        public List<double> Seconds { get; } = [];
        public override void BeforeBatch(Trainer trainer) => _clock.Restart();
        public override void AfterBatch(Trainer trainer)
        {
            if (trainer.Iter >= warmup) Seconds.Add(_clock.Elapsed.TotalSeconds);
        }
    }
}
