using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Schedules;
using static TorchSharp.torch;

namespace Isaacai.Tests;

public class ScheduleTests
{
    /// <summary>A trainer over 10 train samples in batches of 2: 5 train batches per epoch.</summary>
    private static Trainer FiveBatchTrainer(OptimizerFactory optimizer, params Callback[] callbacks) =>
        new(DataLoaders.FromDatasetDict(TestData.Synthetic(10, 6), 2), nn.CrossEntropyLoss(), optimizer, nn.Linear(4, 3),
            [new BasicTrainCB(), .. callbacks], lr: 0.1);

    [Fact]
    public void OneCycle_starts_at_max_over_div_peaks_after_pct_start_and_ends_at_max_over_div_final()
    {
        var tracking = new TrackingCB();
        var oneCycle = new OneCycleCB(maxLr: 0.05, div: 25, divFinal: 1e4, pctStart: 0.25);
        var trainer = FiveBatchTrainer(Optimizers.Adam, oneCycle, tracking);
        trainer.Fit(5); // 25 steps: progress = step / 24, so the peak (progress 0.25) is step 6
        var lrs = tracking.Lrs;
        Assert.Equal(25, lrs.Count);
        Assert.Equal(0.05 / 25, lrs[0], 12);
        Assert.Equal(6, lrs.Select((lr, i) => (lr, i)).MaxBy(p => p.lr).i);
        Assert.Equal(0.05, lrs[6], 12);
        Assert.Equal(0.05 / 1e4, lrs[^1], 12);
        Assert.All(lrs.Take(6).Zip(lrs.Skip(1).Take(6)), p => Assert.True(p.Second > p.First, "warm-up rises"));
        Assert.All(lrs.Skip(6).Zip(lrs.Skip(7)), p => Assert.True(p.Second < p.First, "annealing falls"));
        // beta1 moves against the learning rate: lowest at the peak, back to the maximum at the end
        Assert.Equal(0.85, oneCycle.MomentumAt(0.25), 12);
        Assert.Equal(0.95, OptimizerSettings.GetMomentum(trainer.Opt!)!.Value, 12);
    }

    [Fact]
    public void A_schedule_function_sets_the_learning_rate_per_epoch_or_per_batch()
    {
        var tracking = new TrackingCB();
        var trainer = FiveBatchTrainer(Optimizers.SGD, new ScheduleCB(s => 0.1 * Math.Pow(0.5, s.Epoch), ScheduleInterval.Epoch), tracking);
        trainer.Fit(3);
        Assert.Equal([.. Enumerable.Repeat(0.1, 5), .. Enumerable.Repeat(0.05, 5), .. Enumerable.Repeat(0.025, 5)], tracking.Lrs);

        var perBatch = new TrackingCB();
        trainer = FiveBatchTrainer(Optimizers.SGD, new ScheduleCB(s => 0.01 * (s.Step + 1)), perBatch);
        trainer.Fit(2);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => 0.01 * i), perBatch.Lrs);
    }

    [Fact]
    public void A_TorchSharp_scheduler_is_made_over_each_fits_optimizer_and_stepped()
    {
        var tracking = new TrackingCB();
        var trainer = FiveBatchTrainer(Optimizers.SGD, new ScheduleCB(opt => optim.lr_scheduler.StepLR(opt, 1, 0.5), ScheduleInterval.Epoch), tracking);
        trainer.Fit(3);
        Assert.Equal([.. Enumerable.Repeat(0.1, 5), .. Enumerable.Repeat(0.05, 5), .. Enumerable.Repeat(0.025, 5)], tracking.Lrs.Select(lr => Math.Round(lr, 12)));
    }

    [Fact]
    public void A_schedule_that_returns_NaN_is_an_error_naming_where()
    {
        var trainer = FiveBatchTrainer(Optimizers.SGD, new ScheduleCB(s => s.Step == 3 ? double.NaN : 0.1));
        var error = Assert.Throws<InvalidOperationException>(() => trainer.Fit(1));
        Assert.Contains("NaN at epoch 0, batch 3", error.Message);
    }

    private sealed class FindDuringFit : Callback
    {
        public Exception? Refusal { get; private set; }
        public List<Callback>? CallbacksAfter { get; private set; }
        public TorchSharp.torch.optim.Optimizer? OptimizerAfter { get; private set; }

        public override void AfterBatch(Trainer trainer)
        {
            if (trainer.Iter != 0 || !trainer.Training) return;
            Refusal = Record.Exception(() => LRFinder.Run(trainer, new LRFinderCB()));
            (CallbacksAfter, OptimizerAfter) = (trainer.Callbacks.ToList(), trainer.Opt);
        }
    }

    [Fact]
    public void LRFinder_on_a_trainer_that_is_fitting_is_refused_before_it_changes_anything()
    {
        var finder = new FindDuringFit();
        var trainer = FiveBatchTrainer(Optimizers.SGD, new MetricsCB(), finder);
        var callbacks = trainer.Callbacks.ToList();
        trainer.Fit(1);
        Assert.IsType<TrainerBusyException>(finder.Refusal);
        Assert.Equal(callbacks, finder.CallbacksAfter);
        Assert.Same(trainer.Opt, finder.OptimizerAfter);
    }

    [Fact]
    public void LRFinder_puts_back_the_optimizer_and_its_Adam_state_as_they_were()
    {
        var trainer = FiveBatchTrainer(Optimizers.Adam);
        trainer.Fit(1);
        var adam = trainer.Opt!;
        var before = StateOf(adam);
        LRFinder.Run(trainer, new LRFinderCB(1e-4, 1, iterations: 8));
        Assert.Same(adam, trainer.Opt);
        Assert.Equal(before, StateOf(adam));
    }

    /// <summary>Adam's saved state (step counts and moments) as bytes, to compare exactly.</summary>
    private static byte[] StateOf(optim.Optimizer optimizer)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
        return buffer.ToArray();
    }

    [Fact]
    public void Steep_is_looked_for_only_on_the_way_down_to_the_lowest_loss()
    {
        // Falls gently to a minimum at point 5, blows up, then the average "recovers" steeply: not a rate to train at.
        double[] smoothed = [2.0, 1.9, 1.7, 1.4, 1.2, 1.1, 5.0, 2.0, 9.0, 9.5];
        var lrs = smoothed.Select((_, i) => Math.Pow(10, i - 7)).ToList();
        var result = LRFinder.Analyse(lrs, smoothed, smoothed);
        Assert.Equal(1e-4, result.SteepLr, 12); // 1.7 to 1.4 is the steepest fall before the minimum
    }

    [Fact]
    public void LRFinder_leaves_out_callbacks_that_act_on_epochs_or_set_the_rate_and_puts_them_back_in_order()
    {
        var folder = Directory.CreateTempSubdirectory("isaac-lrfind-").FullName;
        try
        {
            var metrics = new MetricsCB();
            var callbacks = new Callback[] { metrics, new EarlyStoppingCB(), new CheckpointCB(Path.Combine(folder, "c.isaacckpt")),
                new CsvLoggerCB(Path.Combine(folder, "log.csv")), new OneCycleCB(0.1), new TrackingCB() };
            var trainer = FiveBatchTrainer(Optimizers.SGD, callbacks);
            trainer.Fit(1);
            var before = trainer.Callbacks.ToList();
            var recordsBefore = metrics.Records.ToList();
            File.Delete(Path.Combine(folder, "c.isaacckpt"));
            File.Delete(Path.Combine(folder, "log.csv"));

            var result = LRFinder.Run(trainer, new LRFinderCB(1e-4, 1, iterations: 12, stopDivergence: 1e9)); // 12 batches: three epochs of 5
            Assert.Equal(12, result.Points.Count);
            Assert.Equal(before, trainer.Callbacks);
            Assert.Equal(recordsBefore, metrics.Records);
            Assert.Empty(Directory.GetFiles(folder));
            Assert.Equal(1e-4, result.Points[0].Lr, 12);
            Assert.Equal(1, result.Points[^1].Lr, 12);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    /// <summary>
    /// Least squares is convex: plain gradient descent converges for lr &lt; 2/λmax of the loss's Hessian and
    /// diverges above. The finder's suggestions must fall in the range that converges, well above the
    /// start of the sweep, and the trainer must come back exactly as it was.
    /// </summary>
    [Fact]
    public void LRFinder_suggests_a_rate_inside_the_convergent_range_of_a_convex_problem_and_restores_the_trainer()
    {
        Isaac.SetSeed(3);
        var x = randn(256, 8);
        var y = x.matmul(randn(8, 1)) + 0.01 * randn(256, 1);
        var data = new DatasetDict { ["train"] = new TensorDataset(x, y), ["valid"] = new TensorDataset(x, y) };
        var model = nn.Linear(8, 1);
        var trainer = new Trainer(DataLoaders.FromDatasetDict(data, 256), nn.MSELoss(), Optimizers.SGD, model, [new BasicTrainCB()], lr: 1e-3);
        trainer.Fit(1);
        var optimizerBefore = trainer.Opt;
        var weightsBefore = model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        using var rngBefore = random.get_rng_state();

        // Hessian of mean((Xw + b - y)^2) in (w, b): 2/n [X 1]^T [X 1]
        var design = cat([x, ones(256, 1)], 1);
        double lambdaMax = linalg.eigvalsh(design.T.matmul(design) * (2.0 / 256)).max().item<float>();
        double divergent = 2 / lambdaMax;

        var result = LRFinder.Run(trainer, new LRFinderCB(startLr: 1e-5, endLr: 100, iterations: 100));

        Assert.InRange(result.Points.Count, 10, 100);
        Assert.True(result.Points[^1].Lr < 100, "the sweep stopped itself when the loss diverged");
        Assert.InRange(result.SuggestedLr, 1e-3, divergent);
        Assert.InRange(result.ValleyLr, 1e-3, divergent);
        Assert.Same(optimizerBefore, trainer.Opt);
        Assert.All(model.state_dict(), p => Assert.True(TestData.Same(weightsBefore[p.Key], p.Value), $"{p.Key} restored bit for bit"));
        using var rngAfter = random.get_rng_state();
        Assert.True(TestData.Same(rngBefore, rngAfter));
        Assert.DoesNotContain(trainer.Callbacks, c => c is LRFinderCB);
    }
}
