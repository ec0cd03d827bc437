using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Metrics;
using static TorchSharp.torch;

namespace Isaacai.Tests;

public class TrainingCallbackTests
{
    /// <summary>Runs an action at one hook when a condition holds.</summary>
    private sealed class AtHook(Hook hook, Func<Trainer, bool> when, Action<Trainer> act) : Callback
    {
        public override bool Implements(Hook h) => h == hook;
        public override void Invoke(Hook h, Trainer trainer) { if (when(trainer)) act(trainer); }
    }

    private static Callback At(Hook hook, Func<Trainer, bool> when, Action<Trainer> act, int order = 0) => new AtHook(hook, when, act) { Order = order };

    /// <summary>
    /// From epoch <paramref name="from"/> on, the model is its last good weights negated and scaled up, and does
    /// not learn (learning rate 0): its valid loss is worse than any before, every epoch, whatever the seed.
    /// </summary>
    private static Callback WorsenFrom(int from)
    {
        Dictionary<string, Tensor>? good = null;
        return At(Hook.BeforeEpoch, t => t.Training && t.Epoch >= from, t =>
        {
            good ??= Weights(t.Model);
            using var _ = no_grad();
            foreach (var (key, parameter) in t.Model.named_parameters()) parameter.copy_(good[key] * -10);
            Schedules.OptimizerSettings.SetLr(t.Opt!, 0);
        });
    }

    /// <summary>A copy that outlives the batch it was taken in.</summary>
    private static Dictionary<string, Tensor> Weights(nn.Module model) => model.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone().DetachFromDisposeScope());

    [Fact]
    public void EarlyStopping_stops_after_patience_epochs_without_improvement_and_restores_the_best_weights()
    {
        // The model's first weights and the shuffling come from torch's generator: seeded, so that the epochs'
        // losses do not hang on which tests ran before (with some states epoch 1 is not yet the best).
        Isaac.SetSeed(1);
        Dictionary<string, Tensor>? bestWeights = null;
        var early = new EarlyStoppingCB("valid_loss", patience: 2, restoreBestWeights: true);
        var metrics = new MetricsCB();
        var trainer = TestData.Trainer(4, new BasicTrainCB(), metrics, early,
            At(Hook.AfterEpoch, t => t.Epoch == 1 && !t.Training, t => bestWeights = Weights(t.Model)),
            WorsenFrom(2));
        trainer.Fit(10);
        Assert.Equal(3, early.StoppedEpoch);
        Assert.Equal(1, early.BestEpoch);
        Assert.Equal(4, metrics.Records.Count);
        Assert.Equal(metrics.Records[1].ValidLoss!.Value, early.Best);
        Assert.All(trainer.Model.state_dict(), p => Assert.True(TestData.Same(bestWeights![p.Key], p.Value)));
    }

    [Fact]
    public void EarlyStopping_infers_the_direction_from_the_key_and_rejects_keys_it_cannot_read()
    {
        Assert.Equal(MonitorMode.Max, new EarlyStoppingCB("Accuracy").Monitor.Mode);
        Assert.Equal(MonitorMode.Min, new EarlyStoppingCB("valid_loss").Monitor.Mode);
        Assert.Contains("Mode Min or Max", Assert.Throws<ArgumentException>(() => new EarlyStoppingCB("banana")).Message);
        var trainer = TestData.Trainer(4, new BasicTrainCB(), new MetricsCB(("Accuracy", new MulticlassAccuracy())), new EarlyStoppingCB("F1"));
        var error = Assert.Throws<InvalidOperationException>(() => trainer.Fit(1));
        Assert.Contains("no 'F1' to monitor; its keys are: Accuracy, train_loss, valid_loss", error.Message);
    }

    [Fact]
    public void TerminateOnNaN_cancels_the_fit_naming_epoch_and_batch_and_can_restore_the_last_finite_weights()
    {
        Dictionary<string, Tensor>? lastFinite = null;
        var guard = new TerminateOnNaNCB(restoreWeights: true);
        var trace = new List<string>();
        var trainer = TestData.Trainer(2, new BasicTrainCB(), guard, new TraceCB(trace),
            At(Hook.GetLoss, t => t.Epoch == 1 && t.Iter == 1 && t.Training, t => lastFinite = Weights(t.Model), order: 5),
            At(Hook.GetLoss, t => t.Epoch == 1 && t.Iter == 2 && t.Training, t => t.Loss = t.Loss! * double.NaN, order: 5));
        trainer.Fit(5);
        Assert.Equal((1, 2), guard.TerminatedAt);
        Assert.DoesNotContain("after_fit", trace);
        Assert.Contains("cleanup_fit", trace);
        Assert.All(trainer.Model.state_dict(), p => Assert.True(TestData.Same(lastFinite![p.Key], p.Value)));

        var strict = TestData.Trainer(2, new BasicTrainCB(), new TerminateOnNaNCB(errorOnNaN: true),
            At(Hook.GetLoss, t => t.Iter == 3, t => t.Loss = t.Loss! / 0.0 * 0.0, order: 5));
        var error = Assert.Throws<NonFiniteLossException>(() => strict.Fit(1));
        Assert.Contains("NaN at epoch 0, train batch 3", error.Message);
    }

    [Fact]
    public void GradientClip_scales_the_gradient_to_the_max_norm_keeping_its_direction()
    {
        var clip = new GradientClipCB(maxNorm: 0.01);
        Tensor? before = null, after = null;
        double normAtStep = double.NaN;
        var trainer = TestData.Trainer(4, new BasicTrainCB(), clip,
            At(Hook.Backward, t => t.Iter == 0, t => before = Grads(t), order: 15),
            At(Hook.Step, t => t.Iter == 0, t => (after, normAtStep) = (Grads(t), clip.LastNorm), order: -1));
        trainer.Fit(1, valid: false);
        double norm = before!.norm().item<float>();
        Assert.Equal(norm, normAtStep, 4);
        Assert.True(norm > 0.01, "the test's gradient is larger than the limit");
        Assert.Equal(0.01, after!.norm().item<float>(), 5);
        Assert.True(allclose(after, before * (0.01 / norm), rtol: 1e-4, atol: 1e-7));
    }

    private static Tensor Grads(Trainer trainer) => cat(trainer.Model.parameters().Select(p => p.grad!.flatten()).ToArray()).detach().clone().DetachFromDisposeScope();

    [Fact]
    public void GradientAccumulation_over_k_batches_steps_as_one_batch_k_times_as_large()
    {
        Trainer Make(int batchSize, params Callback[] extra)
        {
            Isaac.SetSeed(11);
            var model = nn.Linear(4, 3);
            return new Trainer(DataLoaders.FromDatasetDict(TestData.Synthetic(train: 16), batchSize), nn.CrossEntropyLoss(), Optimizers.SGD, model,
                [new BasicTrainCB(), .. extra], lr: 0.5);
        }
        int steps = 0;
        var accumulated = Make(4, new GradientAccumulationCB(2), At(Hook.Step, _ => true, _ => steps++));
        var large = Make(8);
        Isaac.SetSeed(5); accumulated.Fit(2, valid: false);
        Isaac.SetSeed(5); large.Fit(2, valid: false);   // same permutations: randperm does not depend on the batch size
        Assert.Equal(4, steps); // 4 batches an epoch, a step every 2
        foreach (var (key, value) in large.Model.state_dict())
            Assert.True(allclose(value, accumulated.Model.state_dict()[key], rtol: 1e-5, atol: 1e-6), key);
        var plain = Make(4);
        Isaac.SetSeed(5); plain.Fit(2, valid: false);
        Assert.False(allclose(plain.Model.state_dict()["weight"], large.Model.state_dict()["weight"], rtol: 1e-5, atol: 1e-6), "the comparison can fail");
    }

    [Fact]
    public void GradientAccumulation_drops_a_group_a_cancel_cut_short()
    {
        var gradientsAtEpochStart = new List<double>();
        var trainer = TestData.Trainer(2, new BasicTrainCB(), new GradientAccumulationCB(4),
            At(Hook.AfterBatch, t => t.Training && t.Iter == 1, _ => throw new CancelEpochException()), // two batches into a group of four
            At(Hook.BeforeBatch, t => t.Training && t.Iter == 0, t => gradientsAtEpochStart.Add(t.Model.parameters().Sum(p => p.grad is null ? 0 : p.grad.abs().sum().item<float>()))));
        trainer.Fit(3, valid: false);
        Assert.Equal([0, 0, 0], gradientsAtEpochStart);
    }

    [Fact]
    public void An_early_stop_ends_the_fit_after_every_callback_has_had_its_last_epoch()
    {
        var folder = Directory.CreateTempSubdirectory("isaac-early-").FullName;
        try
        {
            var early = new EarlyStoppingCB("valid_loss", patience: 1); // added before the logger and checkpoint: same order 10 as the logger
            var trainer = TestData.Trainer(4, new BasicTrainCB(), new MetricsCB(), early,
                new CsvLoggerCB(Path.Combine(folder, "log.csv")), new CheckpointCB(Path.Combine(folder, "c-{epoch}.isaacckpt")),
                WorsenFrom(1));
            trainer.Fit(10);
            Assert.Equal(1, early.StoppedEpoch);
            Assert.Equal(3, File.ReadAllLines(Path.Combine(folder, "log.csv")).Length); // header, epochs 0 and 1
            Assert.True(File.Exists(Path.Combine(folder, "c-2.isaacckpt")), "the stopping epoch was checkpointed");
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public void A_fit_refused_for_a_callback_already_there_leaves_the_trainer_as_it_was()
    {
        var tracking = new TrackingCB();
        var trainer = TestData.Trainer(4, new BasicTrainCB(), tracking);
        Assert.Throws<ArgumentException>(() => trainer.Fit(1, callbacks: [tracking]));
        Assert.Equal(["BasicTrainCB", "TrackingCB"], trainer.Callbacks.Select(c => c.Name));
        Assert.False(trainer.IsFitting);
    }

    [Fact]
    public void Another_thread_cannot_change_the_callbacks_of_a_fitting_trainer_but_a_hook_can()
    {
        Exception? fromAnotherThread = null;
        var added = new TrackingCB();
        var trainer = TestData.Trainer(4, new BasicTrainCB(),
            At(Hook.AfterBatch, t => t.Epoch == 0 && t.Iter == 0 && t.Training, t =>
            {
                var other = new Thread(() => fromAnotherThread = Record.Exception(() => t.AddCallbacks(new MetricsCB())));
                other.Start();
                other.Join();
                t.AddCallbacks(added); // on the fit's own thread: allowed, as the seed lets a callback add one
            }));
        trainer.Fit(1);
        Assert.IsType<TrainerBusyException>(fromAnotherThread);
        Assert.Contains(added, trainer.Callbacks);
        Assert.DoesNotContain(trainer.Callbacks, c => c is MetricsCB);
    }

    [Fact]
    public void A_callback_instance_is_added_once()
    {
        var csv = new MetricsCB();
        var trainer = TestData.Trainer(4, new BasicTrainCB(), csv);
        Assert.Contains("already in this trainer", Assert.Throws<ArgumentException>(() => trainer.AddCallbacks(csv)).Message);
        Assert.Throws<ArgumentException>(() => trainer.AddCallbacks(new TrackingCB() is var t ? [t, t] : []));
        Assert.Equal(2, trainer.Callbacks.Count);
    }

    [Fact]
    public void A_monitor_reads_the_metrics_record_of_this_epoch_in_any_case_and_says_so_when_it_runs_too_early()
    {
        var early = new EarlyStoppingCB("ACCURACY", patience: 5);
        TestData.Trainer(4, new BasicTrainCB(), new MetricsCB(("Accuracy", new MulticlassAccuracy())), new TrackingCB(), early).Fit(2);
        Assert.InRange(early.Best, 0, 1);

        var tooEarly = new EarlyStoppingCB("valid_loss") { Order = -5 }; // before MetricsCB: TrackingCB's record must not stand in for it
        var trainer = TestData.Trainer(4, new BasicTrainCB(), new MetricsCB(), new TrackingCB(), tooEarly);
        Assert.Contains("needs a MetricsCB (or TrackingCB) that runs before this callback", Assert.Throws<InvalidOperationException>(() => trainer.Fit(1)).Message);
    }

    [Fact]
    public void CsvLogger_has_each_epochs_row_on_disk_before_the_next_epoch_starts()
    {
        var path = Path.Combine(Path.GetTempPath(), $"isaac-csv-{Guid.NewGuid():N}.csv");
        try
        {
            var seen = new List<string[]>();
            var trainer = TestData.Trainer(4, new BasicTrainCB(), new MetricsCB(("Accuracy", new MulticlassAccuracy())), new CsvLoggerCB(path),
                At(Hook.BeforeEpoch, t => t.Training && t.Epoch > 0, _ => seen.Add(ReadShared(path))));
            trainer.Fit(3);
            Assert.Equal([2, 3], seen.Select(lines => lines.Length));
            var lines = File.ReadAllLines(path);
            Assert.Equal("Accuracy,train_loss,valid_loss,epoch,elapsed", lines[0]);
            Assert.Equal(4, lines.Length);
            Assert.Equal("2", lines[3].Split(',')[3]);

            new Trainer(trainer.Dls, trainer.LossFunc, trainer.OptFunc, trainer.Model, [new BasicTrainCB(), new MetricsCB(("Accuracy", new MulticlassAccuracy())), new CsvLoggerCB(path, append: true)]).Fit(1);
            Assert.Equal(5, File.ReadAllLines(path).Length);
            var mismatch = new Trainer(trainer.Dls, trainer.LossFunc, trainer.OptFunc, trainer.Model, [new BasicTrainCB(), new MetricsCB(), new CsvLoggerCB(path, append: true)]);
            Assert.Contains("has the columns Accuracy, train_loss", Assert.Throws<InvalidOperationException>(() => mismatch.Fit(1)).Message);
            Assert.Equal(5, File.ReadAllLines(path).Length);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void CsvLogger_resumed_from_a_checkpoint_taken_before_any_row_starts_the_file_again_with_its_header()
    {
        var folder = Directory.CreateTempSubdirectory("isaac-csv-resume-").FullName;
        try
        {
            var csv = Path.Combine(folder, "log.csv");
            var checkpointPath = Path.Combine(folder, "start.isaacckpt");
            var trainer = TestData.Trainer(4, new BasicTrainCB(), new MetricsCB(), new CsvLoggerCB(csv));
            Checkpoints.Checkpoint.Save(trainer, checkpointPath, 0); // no file yet: the checkpoint holds 0 bytes of it
            File.WriteAllText(csv, "train_loss,valid_loss,epoch,elapsed\n9,9,0,1\n9,9,1,1\n"); // rows of a run after that checkpoint
            using (var checkpoint = Checkpoints.Checkpoint.Load(checkpointPath)) trainer.Fit(1, resume: checkpoint);
            var lines = File.ReadAllLines(csv);
            Assert.Equal(2, lines.Length);
            Assert.Equal("train_loss,valid_loss,epoch,elapsed", lines[0]);
            Assert.NotEqual("9,9,0,1", lines[1]);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    private static string[] ReadShared(string path)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void RunsBefore_and_RunsAfter_win_over_orders_and_a_cycle_is_an_error_naming_it()
    {
        var trace = new List<string>();
        var a = new TraceCB(trace, "A") { Name = "A", Order = 0 };
        var b = new TraceCB(trace, "B") { Name = "B", Order = 5 };
        var c = new TraceCB(trace, "C") { Name = "C", Order = 10 };
        c.RunsBefore.Add("a");
        b.RunsAfter.Add("C");
        var trainer = TestData.Trainer(4, a, b, c);
        Assert.Equal(["C", "A", "B"], trainer.CallbacksFor(Hook.BeforeFit).Select(cb => cb.Name));
        a.RunsBefore.Add("C");
        var error = Assert.Throws<InvalidOperationException>(() => trainer.CallbacksFor(Hook.BeforeFit));
        Assert.Contains("cycle among: A, B, C", error.Message);
    }
}
