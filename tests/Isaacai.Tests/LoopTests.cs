using Isaacai.Callbacks;
using static TorchSharp.torch;

namespace Isaacai.Tests;

public class LoopTests
{
    private static readonly string[] TrainBatch = ["before_batch", "predict", "get_loss", "before_backward", "backward", "step", "zero_grad", "after_batch", "cleanup_batch"];
    private static readonly string[] ValidBatch = ["before_batch", "predict", "get_loss", "after_batch", "cleanup_batch"];

    private static List<string> Epoch(string[] batch, int batches) =>
        ["before_epoch", .. Enumerable.Repeat(batch, batches).SelectMany(b => b), "after_epoch", "cleanup_epoch"];

    private static List<string> NormalTrace(int epochs, bool train = true, bool valid = true)
    {
        var trace = new List<string> { "before_fit" };
        for (int e = 0; e < epochs; e++)
        {
            if (train) trace.AddRange(Epoch(TrainBatch, 3));
            if (valid) trace.AddRange(Epoch(ValidBatch, 2));
        }
        trace.AddRange(["after_fit", "cleanup_fit"]);
        return trace;
    }

    [Fact]
    public void A_fit_runs_every_hook_in_the_seeds_order()
    {
        var trace = new List<string>();
        TestData.Trainer(4, new TraceCB(trace)).Fit(2);
        Assert.Equal(NormalTrace(2), trace); // 10 train samples in batches of 4: 3 batches; 6 valid: 2
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void Train_and_valid_can_each_be_left_out(bool train, bool valid)
    {
        var trace = new List<string>();
        TestData.Trainer(4, new TraceCB(trace)).Fit(2, train, valid);
        Assert.Equal(NormalTrace(2, train, valid), trace);
    }

    public static TheoryData<string, int, string> ThrowPoints()
    {
        var data = new TheoryData<string, int, string>();
        foreach (var hook in HookNames.Seed)
            foreach (var call in new[] { 1, 4 })
                foreach (var kind in new[] { "batch", "epoch", "fit", "foreign" })
                    if (TraceOracle.IndexOfCall(NormalTrace(2), hook, call) >= 0) data.Add(hook, call, kind);
        return data;
    }

    [Theory]
    [MemberData(nameof(ThrowPoints))]
    public void A_throw_from_any_hook_skips_and_cleans_up_as_the_seed_says(string hook, int call, string kind)
    {
        Func<Exception> make = kind switch
        {
            "batch" => () => new CancelBatchException(),
            "epoch" => () => new CancelEpochException(),
            "fit" => () => new CancelFitException(),
            _ => () => new InvalidOperationException("boom"),
        };
        LoopLevel? level = kind switch { "batch" => LoopLevel.Batch, "epoch" => LoopLevel.Epoch, "fit" => LoopLevel.Fit, _ => null };
        var (expected, escapes) = TraceOracle.Expected(NormalTrace(2), hook, call, level);

        var trace = new List<string>();
        var trainer = TestData.Trainer(4, new TraceCB(trace) { ThrowAt = HookNames.Parse(hook), ThrowOnCall = call, Exception = make });
        var escaped = Record.Exception(() => trainer.Fit(2));

        Assert.Equal(expected, trace);
        Assert.Equal(escapes, escaped is not null);
        Assert.Null(trainer.Batch); // no disposed tensors left behind, however the fit ended
        if (escaped is not null) Assert.IsType(make().GetType(), escaped); // propagates unchanged
        if (kind == "foreign" && escaped is not null)
        {
            Assert.Equal("boom", escaped.Message);
            Assert.Equal((hook, "TraceCB"), ((string)escaped.Data[Trainer.FailedHookKey]!, (string)escaped.Data[Trainer.FailedCallbackKey]!));
        }
    }

    [Fact]
    public void Cancel_batch_at_predict_skips_that_batch_and_its_after_batch_only()
    {
        var trace = new List<string>();
        TestData.Trainer(4, new TraceCB(trace) { ThrowAt = Hook.Predict, Exception = () => new CancelBatchException() }).Fit(1, valid: false);
        List<string> expected = ["before_fit", "before_epoch", "before_batch", "predict", "cleanup_batch", .. TrainBatch, .. TrainBatch, "after_epoch", "cleanup_epoch", "after_fit", "cleanup_fit"];
        Assert.Equal(expected, trace);
    }

    [Fact]
    public void Cancel_epoch_at_before_batch_skips_the_rest_of_the_epoch_and_cleans_up_batch_and_epoch()
    {
        var trace = new List<string>();
        TestData.Trainer(4, new TraceCB(trace) { ThrowAt = Hook.BeforeBatch, ThrowOnCall = 2, Exception = () => new CancelEpochException() }).Fit(1, valid: false);
        List<string> expected = ["before_fit", "before_epoch", .. TrainBatch, "before_batch", "cleanup_batch", "cleanup_epoch", "after_fit", "cleanup_fit"];
        Assert.Equal(expected, trace);
    }

    [Fact]
    public void Callbacks_run_by_order_and_ties_keep_insertion_order()
    {
        var trace = new List<string>();
        var trainer = TestData.Trainer(16,
            new TraceCB(trace, ":a") { Order = 2 }, new TraceCB(trace, ":b") { Order = -1 },
            new TraceCB(trace, ":c"), new TraceCB(trace, ":d"));
        trainer.Fit(1, valid: false);
        Assert.Equal(["before_fit:b", "before_fit:c", "before_fit:d", "before_fit:a"], trace.Take(4));
    }

    [Fact]
    public void RunCallbacks_runs_each_name_in_turn_for_every_callback()
    {
        var trace = new List<string>();
        var trainer = TestData.Trainer(4, new TraceCB(trace, ":1"), new TraceCB(trace, ":2"));
        trainer.RunCallbacks(Hook.Predict, Hook.GetLoss);
        Assert.Equal(["predict:1", "predict:2", "get_loss:1", "get_loss:2"], trace);
        trace.Clear();
        trainer.RunCallbacks("predict", "GetLoss");
        Assert.Equal(["predict:1", "predict:2", "get_loss:1", "get_loss:2"], trace);
        Assert.Throws<ArgumentException>(() => trainer.RunCallbacks("predikt"));
    }

    [Fact]
    public void Only_hooks_a_callback_overrides_are_called()
    {
        Assert.True(new BasicTrainCB().Implements(Hook.Predict));
        Assert.False(new BasicTrainCB().Implements(Hook.BeforeFit));
        Assert.Equal([Hook.AfterBatch], HookNames.All.Where(new SingleBatchCB().Implements));
        Assert.Equal([Hook.BeforeFit, Hook.BeforeBatch], HookNames.All.Where(new DeviceCB().Implements));
    }

    [Fact]
    public void Order_changed_between_fits_takes_effect_at_the_next_fit()
    {
        var trace = new List<string>();
        var late = new TraceCB(trace, ":late");
        var trainer = TestData.Trainer(16, late, new TraceCB(trace, ":early"));
        trainer.Fit(1, valid: false);
        Assert.Equal("before_fit:late", trace[0]);
        trace.Clear();
        late.Order = 5;
        trainer.Fit(1, valid: false);
        Assert.Equal("before_fit:early", trace[0]);
    }

    [Fact]
    public void Train_epochs_train_with_grad_and_valid_epochs_evaluate_without()
    {
        var seen = new List<(bool Training, bool ModelTraining, bool Grad)>();
        var probe = new TraceCB([]) { OnHook = (hook, t) => { if (hook == Hook.Predict) seen.Add((t.Training, t.Model.training, is_grad_enabled())); } };
        TestData.Trainer(4, probe).Fit(1);
        Assert.Equal(Enumerable.Repeat((true, true, true), 3).Concat(Enumerable.Repeat((false, false, false), 2)), seen);
    }

    [Fact]
    public void The_trainer_exposes_its_state_to_callbacks()
    {
        var snapshots = new List<string>();
        var probe = new TraceCB([]) { OnHook = (hook, t) => { if (hook == Hook.AfterBatch) snapshots.Add($"{t.Epoch}/{t.Iter}/{t.Training}/{t.NEpochs}/{t.Batch!.Size}/{t.Preds!.shape[1]}/{t.Loss!.dim()}/{t.Opt is not null}/{t.Lr}"); } };
        var trainer = TestData.Trainer(4, new BasicTrainCB(), probe);
        trainer.Fit(1);
        Assert.Equal(["0/0/True/1/4/3/0/True/0.1", "0/1/True/1/4/3/0/True/0.1", "0/2/True/1/2/3/0/True/0.1", "0/0/False/1/4/3/0/True/0.1", "0/1/False/1/2/3/0/True/0.1"], snapshots);
        Assert.Same(trainer.Dls.Valid, trainer.Dl);
        Assert.Null(trainer.Batch); // per-batch tensors are gone with their batch
    }

    [Fact]
    public void A_trainer_reused_for_a_second_fit_behaves_like_a_new_one()
    {
        var first = new List<string>();
        var trainer = TestData.Trainer(4, new TraceCB(first), new BasicTrainCB());
        trainer.Fit(1);
        var second = new List<string>();
        trainer.RemoveCallback(trainer.Callbacks[0]);
        trainer.AddCallbacks(new TraceCB(second));
        trainer.Fit(1);
        Assert.Equal(first.Where(h => h != "before_fit").Count() + 1, second.Count);
        Assert.Equal(NormalTrace(1), second);
    }

    [Fact]
    public void A_cancelled_token_stops_at_the_next_batch_boundary_as_a_cancel_fit()
    {
        using var stop = new CancellationTokenSource();
        var trace = new List<string>();
        var probe = new TraceCB(trace) { OnHook = (hook, t) => { if (hook == Hook.AfterBatch && t.Iter == 1) stop.Cancel(); } };
        var trainer = TestData.Trainer(4, probe);
        trainer.Fit(2, cancellation: stop.Token);
        List<string> expected = ["before_fit", "before_epoch", .. TrainBatch, .. TrainBatch, "cleanup_epoch", "cleanup_fit"];
        Assert.Equal(expected, trace);
        trace.Clear();
        trainer.Fit(1); // still usable
        Assert.Equal(NormalTrace(1), trace);
    }

    [Fact]
    public void A_callback_cannot_start_a_second_fit_of_its_own_trainer()
    {
        var trace = new List<string>();
        var nested = new TraceCB([]) { OnHook = (hook, t) => { if (hook == Hook.BeforeFit) t.Fit(1); } };
        var trainer = TestData.Trainer(4, nested, new TraceCB(trace));
        var error = Assert.Throws<TrainerBusyException>(() => trainer.Fit(1));
        Assert.Contains("already fitting", error.Message);
        Assert.Equal(["cleanup_fit"], trace); // the outer fit still cleaned up
        trace.Clear();
        trainer.RemoveCallback(nested);
        trainer.Fit(1);
        Assert.Equal(NormalTrace(1), trace);
    }

    [Fact]
    public void Bad_arguments_get_clear_errors()
    {
        var dls = Isaacai.Data.DataLoaders.FromDatasetDict(TestData.Synthetic(), 4);
        var lr = Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(dls, nn.CrossEntropyLoss(), Optimizers.SGD, nn.Linear(4, 3), lr: -1));
        Assert.Contains("learning rate", lr.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => TestData.Trainer().Fit(-1));
        var missing = Assert.Throws<ArgumentException>(() => Isaacai.Data.DataLoaders.FromDatasetDict(new Isaacai.Data.DatasetDict(), 4));
        Assert.Contains("'train'", missing.Message);
    }
}
