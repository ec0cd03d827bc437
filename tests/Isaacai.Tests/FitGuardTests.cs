using Isaacai.Callbacks;
using static TorchSharp.torch;

namespace Isaacai.Tests;

/// <summary>What a fit refuses, checks and warns about before it can go wrong.</summary>
public class FitGuardTests
{
    [Fact]
    public void A_refused_fit_changes_nothing_and_the_running_fit_keeps_its_reporter_logger_and_callbacks()
    {
        var logger = new RecordingLogger();
        var trace = new List<string>();
        TrainerBusyException? refused = null;
        var extra = new TraceCB([]);
        var second = new RecordingLogger();
        var probe = new TraceCB(trace)
        {
            OnHook = (hook, t) =>
            {
                if (hook != Hook.AfterEpoch || refused is not null) return;
                // Another host tries to start a fit of the same trainer, with its own reporter, logger and callback.
                refused = Assert.Throws<TrainerBusyException>(() => t.Fit(1, callbacks: [extra], logger: second));
                Assert.Same(logger, t.Logger);
                Assert.DoesNotContain(extra, t.Callbacks);
            },
        };
        var trainer = TestData.Trainer(4, probe);
        trainer.Fit(1, logger: logger);

        Assert.NotNull(refused);
        Assert.Contains("already fitting", refused.Message);
        Assert.Equal("cleanup_fit", trace[^1]);
        Assert.Same(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, trainer.Logger); // the fit's logger served that fit only
        Assert.False(trainer.IsFitting);
    }

    [Fact]
    public void Callbacks_given_to_a_fit_serve_that_fit_only()
    {
        var trace = new List<string>();
        var trainer = TestData.Trainer(4);
        trainer.Fit(1, callbacks: [new TraceCB(trace)]);
        Assert.Equal("cleanup_fit", trace[^1]);
        Assert.Empty(trainer.Callbacks);
    }

    [Fact]
    public void Of_two_threads_starting_a_fit_at_once_exactly_one_fits()
    {
        var trainer = TestData.Trainer(4, new BasicTrainCB());
        for (int trial = 0; trial < 50; trial++)
        {
            using var start = new Barrier(2);
            var outcomes = new string[2];
            var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                try { trainer.Fit(1); outcomes[i] = "fit"; }
                catch (TrainerBusyException) { outcomes[i] = "refused"; }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            Assert.Contains("fit", outcomes);
            Assert.All(outcomes, o => Assert.True(o is "fit" or "refused"));
        }
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    public void The_learning_rate_setter_and_fit_override_validate_as_the_constructor_does(double lr)
    {
        var trainer = TestData.Trainer();
        var set = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Lr = lr);
        Assert.Contains("positive finite number", set.Message);
        Assert.Equal(0.1, trainer.Lr);
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(1, lr: lr));
        Assert.False(trainer.IsFitting);
    }

    [Fact]
    public void A_non_finite_loss_is_warned_about_once_per_fit_naming_epoch_and_batch()
    {
        var logger = new RecordingLogger();
        // From the second train batch on, the loss is NaN.
        var spoil = new TraceCB([]) { OnHook = (hook, t) => { if (hook == Hook.GetLoss && (t.Iter >= 1 || !t.Training)) t.Loss = t.Loss!.mul(double.NaN); } };
        var trainer = TestData.Trainer(4, new BasicTrainCB(), spoil);
        spoil.Order = 1;
        trainer.Logger = logger;
        trainer.Fit(2);
        var warning = Assert.Single(logger.Warnings);
        Assert.Contains("The loss is NaN at epoch 0, batch 1 (train)", warning);

        trainer.Fit(1); // and again in the next fit
        Assert.Equal(2, logger.Warnings.Count());
    }

    [Fact]
    public void A_finite_loss_gets_no_warning()
    {
        var logger = new RecordingLogger();
        TestData.Trainer(4, new BasicTrainCB()).Fit(2, logger: logger);
        Assert.Empty(logger.Warnings);
    }
}
