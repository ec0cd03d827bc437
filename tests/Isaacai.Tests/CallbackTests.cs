using TorchSharp;
using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Metrics;
using Isaacai.Models;
using static TorchSharp.torch;

namespace Isaacai.Tests;

public class CallbackTests
{
    private sealed class Collector : ITrainingReporter
    {
        public List<EpochRecord> Records { get; } = [];
        public List<TrainingProgress> Progress { get; } = [];
        public void EpochCompleted(EpochRecord record) => Records.Add(record);
        void ITrainingReporter.Progress(TrainingProgress progress) => Progress.Add(progress);
    }

    [Fact]
    public void MetricsCB_reports_one_record_per_epoch_with_exactly_the_seeds_keys()
    {
        var reporter = new Collector();
        var metrics = new MetricsCB(("Accuracy", new MulticlassAccuracy()));
        var trainer = TestData.Trainer(4, new BasicTrainCB(), metrics);
        trainer.Reporter = reporter;
        trainer.Fit(3);
        Assert.Equal(3, reporter.Records.Count);
        Assert.Equal(metrics.Records, reporter.Records);
        Assert.Equal(["Accuracy", "train_loss", "valid_loss", "epoch", "elapsed"], reporter.Records[0].Keys);
        Assert.Equal([0, 1, 2], reporter.Records.Select(r => r.Epoch));
        Assert.All(reporter.Records, r => Assert.InRange((double)r["Accuracy"]!, 0, 1));
        Assert.All(reporter.Records, r => Assert.True(r.Elapsed > TimeSpan.Zero));
        Assert.StartsWith("{'Accuracy': ", reporter.Records[0].ToString());
    }

    [Fact]
    public void MetricsCB_weights_losses_by_batch_size_and_measures_accuracy_on_valid_batches()
    {
        // Batches of 4, 4 and 2 train samples: a plain mean of batch means would weigh the last too much.
        var batchLosses = new List<(double Loss, long Size, bool Training)>();
        var correct = new List<(long Hits, long Size)>();
        var probe = new TraceCB([]) { Order = 1, OnHook = (hook, t) =>
        {
            if (hook != Hook.AfterBatch) return;
            batchLosses.Add((t.Loss!.item<float>(), t.Batch!.Size, t.Training));
            if (!t.Training) correct.Add((t.Preds!.argmax(1).eq(t.Batch.Y).sum().item<long>(), t.Batch.Size));
        } };
        var metrics = new MetricsCB(("Accuracy", new MulticlassAccuracy()));
        TestData.Trainer(4, new BasicTrainCB(), metrics, probe).Fit(1);

        double Weighted(bool training) => batchLosses.Where(b => b.Training == training).Sum(b => b.Loss * b.Size) / batchLosses.Where(b => b.Training == training).Sum(b => b.Size);
        var record = metrics.Records.Single();
        Assert.Equal(Weighted(true), record.TrainLoss!.Value, 6);
        Assert.Equal(Weighted(false), record.ValidLoss!.Value, 6);
        Assert.Equal((double)correct.Sum(c => c.Hits) / correct.Sum(c => c.Size), record.Metrics["Accuracy"], 12);
    }

    [Fact]
    public void Without_validation_the_record_has_a_null_valid_loss_and_train_metrics()
    {
        var metrics = new MetricsCB(("Accuracy", new MulticlassAccuracy()));
        TestData.Trainer(4, new BasicTrainCB(), metrics).Fit(1, valid: false);
        var record = metrics.Records.Single();
        Assert.Null(record.ValidLoss);
        Assert.NotNull(record.TrainLoss);
        Assert.False(double.IsNaN(record.Metrics["Accuracy"]));
    }

    [Fact]
    public void MomentumTrainCB_scales_gradients_by_momentum_instead_of_zeroing_them()
    {
        var before = new List<Tensor>();
        var after = new List<Tensor>();
        var probe = new TraceCB([]) { Order = -1, OnHook = (hook, t) =>
        {
            if (hook == Hook.ZeroGrad && t.Iter == 0 && t.Training) before.AddRange(t.Model.parameters().Select(p => p.grad!.clone().DetachFromDisposeScope()));
            if (hook == Hook.AfterBatch && t.Iter == 0 && t.Training) after.AddRange(t.Model.parameters().Select(p => p.grad!.clone().DetachFromDisposeScope()));
        } };
        TestData.Trainer(4, new MomentumTrainCB(0.5), probe).Fit(1, valid: false);
        Assert.Equal(before.Count, after.Count);
        for (int i = 0; i < before.Count; i++) Assert.True(after[i].allclose(before[i] * 0.5), $"gradient {i} was not scaled by 0.5");
        Assert.Throws<ArgumentOutOfRangeException>(() => new MomentumTrainCB(1.5));
    }

    [Fact]
    public void MomentumTrainer_brings_its_own_callbacks_and_shows_momentum_in_its_constructor()
    {
        var parameter = typeof(MomentumTrainer).GetConstructors().Single().GetParameters().Last();
        Assert.Equal(("momentum", typeof(double), 0.85), (parameter.Name, parameter.ParameterType, parameter.DefaultValue));
        var trainer = new MomentumTrainer(DataLoaders.FromDatasetDict(TestData.Synthetic(), 4), nn.CrossEntropyLoss(), Optimizers.SGD, nn.Linear(4, 3), momentum: 0.7);
        Assert.Equal(["MomentumTrainCB", "DeviceCB", "TrackingCB"], trainer.Callbacks.Select(c => c.Name));
        Assert.Equal(0.7, trainer.Callbacks.OfType<MomentumTrainCB>().Single().Momentum);
        trainer.Fit(2);
        var tracking = trainer.Callbacks.OfType<TrackingCB>().Single();
        Assert.Equal(6, tracking.TrainLosses.Count);
        Assert.Equal(4, tracking.ValidLosses.Count);
        Assert.Equal([0, 1], tracking.Epochs.Select(e => e.Epoch));
        Assert.Equal(tracking.TrainLosses.Take(3).Average(), tracking.Epochs[0].TrainLoss!.Value, 12);
        Assert.Equal(tracking.ValidLosses.Skip(2).Average(), tracking.Epochs[1].ValidLoss!.Value, 12);
        Assert.Equal(["train_loss", "valid_loss", "epoch", "elapsed"], tracking.Epochs[0].Keys);
    }

    [Fact]
    public void SingleBatchCB_stops_the_fit_after_one_batch()
    {
        var trace = new List<string>();
        TestData.Trainer(4, new BasicTrainCB(), new SingleBatchCB(), new TraceCB(trace)).Fit(3);
        Assert.Equal(1, trace.Count(h => h == "predict"));
        Assert.DoesNotContain("after_fit", trace);
        Assert.Equal("cleanup_fit", trace[^1]);
    }

    [Fact]
    public void DeviceCB_keeps_model_and_batches_on_its_device()
    {
        var devices = new List<DeviceType>();
        var probe = new TraceCB([]) { OnHook = (hook, t) => { if (hook == Hook.Predict) devices.Add(t.Batch!.X.device_type); } };
        var device = new DeviceCB();
        Assert.Equal(cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, device.Device.type);
        TestData.Trainer(4, device, probe).Fit(1);
        Assert.All(devices, d => Assert.Equal(device.Device.type, d));
    }

    [Fact]
    public void ProgressCB_reports_epochs_and_batches()
    {
        var reporter = new Collector();
        var trainer = TestData.Trainer(4, new ProgressCB());
        trainer.Reporter = reporter;
        trainer.Fit(2);
        Assert.Equal(2 * (3 + 2), reporter.Progress.Count(p => p.Level == LoopLevel.Batch));
        Assert.Contains(new TrainingProgress(LoopLevel.Batch, 3, 3, "train"), reporter.Progress);
        Assert.Equal([new(LoopLevel.Fit, 0, 2, "Epoch 1 of 2"), new(LoopLevel.Epoch, 0, 2, "train"), new(LoopLevel.Batch, 1, 3, "train")], reporter.Progress.Take(3));
        Assert.Contains(new TrainingProgress(LoopLevel.Epoch, 1, 2, "valid"), reporter.Progress);
        Assert.Equal(new TrainingProgress(LoopLevel.Fit, 2, 2, "Done"), reporter.Progress[^1]);
    }

    [Fact]
    public void Names_pick_optimizers_losses_and_metrics_or_list_the_valid_ones()
    {
        Assert.IsType<MulticlassAccuracy>(MetricNames.Create("accuracy"));
        Assert.Contains("Adam", Assert.Throws<ArgumentException>(() => Optimizers.FromName("Adamm")).Message);
        Assert.Contains("CrossEntropy", Assert.Throws<ArgumentException>(() => Losses.FromName("Cross")).Message);
        Assert.Contains("Accuracy", Assert.Throws<ArgumentException>(() => MetricNames.Create("Precision")).Message);
        Assert.IsType<MacroF1>(MetricNames.Create("f1"));
    }
}
