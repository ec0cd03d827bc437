using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Sweeps;
using static TorchSharp.torch;

namespace Isaacai.Tests;

public class SweepTests
{
    private static SearchSpace Space() => new([
        KeyValuePair.Create("LearningRate", (ParameterRange)new RealRange(1e-4, 1e-1, log: true, steps: 4)),
        KeyValuePair.Create("Hidden", (ParameterRange)new ChoiceRange([32, 64, 128])),
        KeyValuePair.Create("Dropout", (ParameterRange)new RealRange(0, 0.5)),
        KeyValuePair.Create("Layers", (ParameterRange)new IntegerRange(1, 3)),
    ]);

    [Fact]
    public void A_random_plan_repeats_with_its_seed_and_its_trials_do_not_depend_on_how_many_there_are()
    {
        var a = Space().Plan(SweepStrategy.Random, 8, seed: 7);
        var b = Space().Plan(SweepStrategy.Random, 8, seed: 7);
        var longer = Space().Plan(SweepStrategy.Random, 12, seed: 7);
        var other = Space().Plan(SweepStrategy.Random, 8, seed: 8);
        Assert.Equal(a.Select(t => (t.Seed, string.Join(",", t.Parameters))), b.Select(t => (t.Seed, string.Join(",", t.Parameters))));
        Assert.Equal(a.Select(t => string.Join(",", t.Parameters)), longer.Take(8).Select(t => string.Join(",", t.Parameters)));
        Assert.NotEqual(a.Select(t => string.Join(",", t.Parameters)), other.Select(t => string.Join(",", t.Parameters)));
        Assert.Equal(Enumerable.Range(0, 8), a.Select(t => t.Number));
        Assert.Equal(8, a.Select(t => t.Seed).Distinct().Count());
    }

    [Fact]
    public void Random_draws_stay_in_their_ranges_and_spread_over_them()
    {
        var plan = Space().Plan(SweepStrategy.Random, 400, seed: 1);
        var lrs = plan.Select(t => (double)t.Parameters["LearningRate"]).ToArray();
        Assert.All(lrs, lr => Assert.InRange(lr, 1e-4, 1e-1));
        // log-uniform: about a third of the draws in each decade
        Assert.InRange(lrs.Count(lr => lr < 1e-3), 100, 170);
        Assert.InRange(lrs.Count(lr => lr >= 1e-2), 100, 170);
        Assert.Equal([32, 64, 128], plan.Select(t => (int)t.Parameters["Hidden"]).Distinct().Order());
        Assert.Equal([1, 2, 3], plan.Select(t => (int)t.Parameters["Layers"]).Distinct().Order());
        var dropouts = plan.Select(t => (double)t.Parameters["Dropout"]).ToArray();
        Assert.All(dropouts, d => Assert.InRange(d, 0, 0.5));
        Assert.InRange(dropouts.Average(), 0.22, 0.28);
    }

    [Fact]
    public void A_grid_visits_every_combination_in_order_the_last_name_fastest()
    {
        var space = new SearchSpace([
            KeyValuePair.Create("b", (ParameterRange)new ChoiceRange(["x", "y"])),
            KeyValuePair.Create("a", (ParameterRange)new RealRange(1e-3, 1e-1, log: true, steps: 3)),
        ]);
        var plan = space.Plan(SweepStrategy.Grid, null, seed: 0);
        Assert.Equal(6, plan.Count);
        Assert.Equal(["x", "y", "x", "y", "x", "y"], plan.Select(t => (string)t.Parameters["b"]));
        Assert.Equal([1e-3, 1e-3, 1e-2, 1e-2, 1e-1, 1e-1], plan.Select(t => (double)t.Parameters["a"]), new ToleranceComparer(1e-15));
        Assert.Equal(4, space.Plan(SweepStrategy.Grid, 4, seed: 0).Count);
    }

    [Fact]
    public void Bad_ranges_and_grids_say_what_is_wrong()
    {
        Assert.Contains("low bound above 0", Assert.Throws<ArgumentOutOfRangeException>(() => new RealRange(0, 1, log: true)).Message);
        Assert.Contains("low < high", Assert.Throws<ArgumentOutOfRangeException>(() => new RealRange(1, 1)).Message);
        Assert.Contains("at least one value", Assert.Throws<ArgumentException>(() => new ChoiceRange([])).Message);
        Assert.Contains("System.DateTime", Assert.Throws<ArgumentException>(() => new ChoiceRange([DateTime.Now])).Message);
        var noSteps = new SearchSpace([KeyValuePair.Create("lr", (ParameterRange)new RealRange(0.1, 1))]);
        Assert.Contains("Steps", Assert.Throws<InvalidOperationException>(() => noSteps.Plan(SweepStrategy.Grid, null, 0)).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => new SearchSpace([
            KeyValuePair.Create("lr", (ParameterRange)new IntegerRange(1, 2)), KeyValuePair.Create("LR", (ParameterRange)new IntegerRange(1, 2))])).Message);
    }

    [Fact]
    public void The_median_pruner_stops_a_trial_worse_than_the_median_of_completed_ones_at_the_same_epoch()
    {
        var pruner = new MedianPruner(startupTrials: 2, warmupEpochs: 1);
        IReadOnlyList<double>[] completed = [[0.9, 0.5, 0.4], [0.8, 0.6, 0.5], [0.7, 0.7, 0.6]];
        Assert.False(pruner.ShouldPrune([5.0], completed, MonitorMode.Min));          // warm-up
        Assert.True(pruner.ShouldPrune([0.9, 0.65], completed, MonitorMode.Min));      // median at epoch 1 is 0.6
        Assert.False(pruner.ShouldPrune([0.9, 0.55], completed, MonitorMode.Min));
        Assert.False(pruner.ShouldPrune([0.5, 0.65], completed, MonitorMode.Min));     // its best so far (0.5) beats the median
        Assert.True(pruner.ShouldPrune([0.9, 0.55], completed, MonitorMode.Max) is false);
        Assert.True(pruner.ShouldPrune([0.1, 0.2], completed, MonitorMode.Max));
        Assert.False(pruner.ShouldPrune([0.9, 0.9, 0.9, 0.9], completed, MonitorMode.Min)); // no completed trial reached epoch 3
        Assert.False(pruner.ShouldPrune([0.9, 0.9], completed.Take(1), MonitorMode.Min));    // fewer than 2 to compare with
    }

    [Fact]
    public void Successive_halving_keeps_the_best_part_of_each_rung()
    {
        var halving = new SuccessiveHalving(minEpochs: 1, reductionFactor: 2);
        Assert.Equal([1, 2, 4], halving.Rungs(4));
        Assert.Equal([1, 2, 4, 5], halving.Rungs(5));
        Assert.Equal([3], new SuccessiveHalving(3, 3).Rungs(3));
        var rung = new[] { (0, 0.5), (1, 0.3), (2, double.NaN), (3, 0.4), (4, 0.3) };
        Assert.Equal([1, 4], halving.Promote(rung, MonitorMode.Min));
        Assert.Equal([0, 3], halving.Promote(rung, MonitorMode.Max));
        Assert.Equal([1], new SuccessiveHalving(1, 3).Promote(rung.Take(2), MonitorMode.Min));
    }

    [Fact]
    public void The_journal_resumes_the_same_sweep_drops_a_torn_line_and_refuses_another_sweep()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sweep-{Guid.NewGuid():N}.jsonl");
        try
        {
            var plan = Space().Plan(SweepStrategy.Random, 4, seed: 3);
            var definition = new SweepDefinition(Space().ToString(), SweepStrategy.Random, 3, 4, 2, "valid_loss", MonitorMode.Min, "none");
            using (var journal = SweepJournal.Open(path, definition, plan))
            {
                Assert.Empty(journal.Ended);
                journal.Append(new TrialResult(1, plan[1].Seed, plan[1].Parameters, TrialState.Completed, [0.6, 0.5], MonitorMode.Min, null, TimeSpan.FromSeconds(2.5), "local"));
                journal.Append(new TrialResult(3, plan[3].Seed, plan[3].Parameters, TrialState.Failed, [double.NaN], MonitorMode.Min, "valid_loss was NaN", TimeSpan.FromSeconds(1), "local"));
            }
            File.AppendAllText(path, "{\"trial\":2,\"seed\":1,\"par"); // a coordinator killed mid-write
            Assert.Equal(definition, SweepJournal.ReadDefinition(path));
            using (var journal = SweepJournal.Open(path, definition, plan))
            {
                Assert.Equal([1, 3], journal.Ended.Select(t => t.Number));
                var first = journal.Ended[0];
                Assert.Equal((TrialState.Completed, 0.5, 1, 2.5, "local"), (first.State, first.Value!.Value, first.BestEpoch!.Value, first.Duration.TotalSeconds, first.Host));
                Assert.Equal(plan[1].Parameters, first.Parameters);
                Assert.True(double.IsNaN(journal.Ended[1].Values[0]));
                Assert.Null(journal.Ended[1].Value);
                Assert.Throws<IOException>(() => SweepJournal.Open(path, definition, plan)); // one writer at a time
            }
            Assert.EndsWith("}\n", File.ReadAllText(path));
            var other = definition with { Seed = 4, Epochs = 3 };
            var error = Assert.Throws<InvalidOperationException>(() => SweepJournal.Open(path, other, plan));
            Assert.Contains("seed 3 there, 4 now; epochs 2 there, 3 now", error.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void The_best_trial_is_the_best_value_of_those_that_did_not_fail()
    {
        TrialResult Trial(int n, TrialState state, params double[] values) =>
            new(n, 0, new Dictionary<string, object>(), state, values, MonitorMode.Min, null, TimeSpan.Zero, "local");
        var best = TrialResult.Best([Trial(0, TrialState.Completed, 0.7, 0.5), Trial(1, TrialState.Pruned, 0.9), Trial(2, TrialState.Failed, 0.1),
            Trial(3, TrialState.Completed, 0.6, 0.5), Trial(4, TrialState.Failed)]);
        Assert.Equal(0, best!.Number);
        Assert.Equal(1, best.BestEpoch);
    }

    [Fact]
    public void The_sweep_callback_prunes_a_fit_at_the_end_of_an_epoch_and_records_its_values()
    {
        Isaac.SetSeed(1);
        var dls = DataLoaders.FromDatasetDict(TestData.Synthetic(40, 10), 10);
        // completed peers far better than this model can be after one epoch: it stops after epoch 1 (warm-up 1)
        var sweep = new SweepTrialCB("valid_loss", MonitorMode.Min, new MedianPruner(2, 1), [[1e-6, 1e-6, 1e-6], [1e-6, 1e-6, 1e-6]]);
        var metrics = new MetricsCB();
        var trainer = new Trainer(dls, nn.CrossEntropyLoss(), Optimizers.Adam, nn.Linear(4, 3), [new BasicTrainCB(), metrics, sweep], lr: 0.01);
        trainer.Fit(3);
        Assert.Equal(2, sweep.Values.Count);
        Assert.Equal(1, sweep.PrunedEpoch);
        Assert.Equal(metrics.Records.Select(r => r.ValidLoss!.Value), sweep.Values);
        Assert.Null(sweep.Failure);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double value) => 0;
    }
}
