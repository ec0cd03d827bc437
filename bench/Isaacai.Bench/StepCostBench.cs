using System.Diagnostics;
using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Models;
using static TorchSharp.torch;

namespace Isaacai.Bench;

/// <summary>
/// Where a training batch's time goes, phase by phase, timed call by call inside real fits: the SimpleNet job
/// (784-64-10, batch 64, Adam 1e-3, one thread) for one train epoch with each optimizer in turn (the flat Adam the
/// module uses by default, and TorchSharp's own), alternating which goes first, for several rounds. Each phase's
/// figure is the median of all its calls. "between batches" is from one after_batch to the next before_batch:
/// ending the batch's dispose scope and indexing the next batch.
/// </summary>
internal static class StepCostBench
{
    private const int BatchSize = 64, Rounds = 5;
    private static readonly string[] Phases = ["between batches", "forward", "loss", "backward", "step", "zero_grad", "whole batch"];

    public static void Run(DatasetDict data, TextWriter output, bool convNet = false)
    {
        set_num_threads(1);
        Runtime.TorchRuntime.DisableNnpack();
        Func<nn.Module<Tensor, Tensor>> model = convNet ? () => new ConvNet(new ConvNetOptions()) : () => new SimpleNet(784, 64, 10);
        int rounds = convNet ? 1 : Rounds;
        var optimizers = new[] { "Adam", "TorchSharp.Adam" };
        var calls = optimizers.ToDictionary(o => o, _ => Phases.ToDictionary(p => p, _ => new List<double>()));
        if (!convNet) Fit(data, model, optimizers[0], null); // warm-up: JIT and allocator
        for (int round = 0; round < rounds; round++)
            foreach (var optimizer in round % 2 == 0 ? optimizers : optimizers.Reverse())
                Fit(data, model, optimizer, calls[optimizer]);

        output.WriteLine($"Per-batch costs (µs, median of every call over {rounds} train epoch(s) each): {(convNet ? "ConvNet 8-16-32-64" : "SimpleNet 784-64-10")} on {data["train"].Count} samples, batch {BatchSize}, 1 thread");
        output.WriteLine("| phase | " + string.Join(" | ", optimizers.Select(o => o == "Adam" ? "flat Adam (default)" : "TorchSharp's Adam")) + " |");
        output.WriteLine("| --- | " + string.Join(" | ", optimizers.Select(_ => "---:")) + " |");
        foreach (var phase in Phases)
            output.WriteLine($"| {phase} | " + string.Join(" | ", optimizers.Select(o => $"{Median(calls[o][phase]):F1}")) + " |");
        // A median hides a heavy tail: the mean and the 90th and 99th percentiles of a whole batch say whether some cost far more.
        output.WriteLine("| whole batch, mean | " + string.Join(" | ", optimizers.Select(o => $"{calls[o]["whole batch"].Average():F1}")) + " |");
        foreach (var percentile in new[] { 90, 99 })
            output.WriteLine($"| whole batch, {percentile}th percentile | " + string.Join(" | ", optimizers.Select(o => $"{Percentile(calls[o]["whole batch"], percentile):F1}")) + " |");
    }

    private static void Fit(DatasetDict data, Func<nn.Module<Tensor, Tensor>> makeModel, string optimizer, Dictionary<string, List<double>>? calls)
    {
        Isaac.SetSeed(1);
        using var model = makeModel();
        var timed = new TimedTrainCB(calls);
        new Trainer(DataLoaders.FromDatasetDict(data, BatchSize), nn.CrossEntropyLoss(), Optimizers.FromName(optimizer), model, [timed, new DeviceCB()], 1e-3)
            .Fit(1, valid: false);
    }

    private static double Median(List<double> values) => Percentile(values, 50);

    private static double Percentile(List<double> values, int percentile) =>
        values.Count == 0 ? double.NaN : values.Order().ElementAt(Math.Min(values.Count - 1, values.Count * percentile / 100));

    /// <summary>The plain training step, each phase timed.</summary>
    private sealed class TimedTrainCB(Dictionary<string, List<double>>? calls) : BasicTrainCB
    {
        private long _batchStart, _previousBatchEnd;

        private void Time(string phase, long start)
        {
            if (calls is not null) calls[phase].Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }

        public override void BeforeBatch(Trainer trainer)
        {
            _batchStart = Stopwatch.GetTimestamp();
            if (_previousBatchEnd != 0) Time("between batches", _previousBatchEnd);
        }

        public override void AfterBatch(Trainer trainer)
        {
            Time("whole batch", _batchStart);
            _previousBatchEnd = Stopwatch.GetTimestamp();
        }

        public override void Predict(Trainer trainer) { long t = Stopwatch.GetTimestamp(); base.Predict(trainer); Time("forward", t); }
        public override void GetLoss(Trainer trainer) { long t = Stopwatch.GetTimestamp(); base.GetLoss(trainer); Time("loss", t); }
        public override void Backward(Trainer trainer) { long t = Stopwatch.GetTimestamp(); base.Backward(trainer); Time("backward", t); }
        public override void Step(Trainer trainer) { long t = Stopwatch.GetTimestamp(); base.Step(trainer); Time("step", t); }
        public override void ZeroGrad(Trainer trainer) { long t = Stopwatch.GetTimestamp(); base.ZeroGrad(trainer); Time("zero_grad", t); }
    }
}
