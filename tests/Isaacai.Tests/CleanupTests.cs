namespace Isaacai.Tests;

/// <summary>Cleanup hooks always finish: every callback runs, and the first error stays the error.</summary>
public class CleanupTests
{
    private static readonly string[] Cleanups = ["cleanup_batch", "cleanup_epoch", "cleanup_fit"];

    [Fact]
    public void A_cleanup_error_after_an_error_keeps_the_first_error_and_attaches_itself()
    {
        var trace = new List<string>();
        var trainer = TestData.Trainer(4,
            new TraceCB([]) { ThrowAt = Hook.Predict, Exception = () => new InvalidOperationException("first") },
            new TraceCB([]) { ThrowAt = Hook.CleanupBatch, Exception = () => new IOException("cleanup batch") },
            new TraceCB([]) { ThrowAt = Hook.CleanupFit, Exception = () => new IOException("cleanup fit") },
            new TraceCB(trace) { Order = 1 });

        var error = Assert.Throws<InvalidOperationException>(() => trainer.Fit(1));

        Assert.Equal("first", error.Message);
        Assert.Equal(("predict", "TraceCB"), ((string)error.Data[Trainer.FailedHookKey]!, (string)error.Data[Trainer.FailedCallbackKey]!));
        Assert.Equal(["cleanup batch", "cleanup fit"], Trainer.CleanupErrorsOf(error).Select(e => e.Message));
        Assert.Equal(["cleanup_batch", "cleanup_fit"], Trainer.CleanupErrorsOf(error).Select(e => (string)e.Data[Trainer.FailedHookKey]!));
        Assert.Equal(Cleanups, trace.Where(Cleanups.Contains)); // the later callback still cleaned up at every level
    }

    [Fact]
    public void Every_cleanup_callback_runs_when_an_earlier_one_throws_and_the_first_failure_is_the_error()
    {
        var trace = new List<string>();
        var trainer = TestData.Trainer(4,
            new TraceCB([]) { ThrowAt = Hook.CleanupFit, Exception = () => new IOException("one") },
            new TraceCB([]) { ThrowAt = Hook.CleanupFit, Exception = () => new IOException("two") },
            new TraceCB(trace) { Order = 1 });

        var error = Assert.Throws<IOException>(() => trainer.Fit(1));

        Assert.Equal("one", error.Message);
        Assert.Equal(["two"], Trainer.CleanupErrorsOf(error).Select(e => e.Message));
        Assert.Equal("cleanup_fit", trace[^1]);
    }

    [Theory]
    [InlineData("cleanup_batch")]
    [InlineData("cleanup_epoch")]
    [InlineData("cleanup_fit")]
    public void A_cancel_fit_raised_in_a_cleanup_hook_still_runs_every_remaining_cleanup_and_ends_the_fit_as_cancelled(string hook)
    {
        // What a stop (Ctrl+C) landing inside a cleanup hook's script becomes.
        var trace = new List<string>();
        var stopped = new TraceCB([]) { ThrowAt = HookNames.Parse(hook), Exception = () => new CancelFitException() };
        var trainer = TestData.Trainer(4, stopped, new TraceCB(trace) { Order = 1 });

        trainer.Fit(2); // ends quietly, as a CancelFit does

        int at = TraceOracle.IndexOfCall(trace, hook, 1);
        var expected = hook switch
        {
            "cleanup_batch" => new[] { "cleanup_batch", "cleanup_epoch", "cleanup_fit" },
            "cleanup_epoch" => ["cleanup_epoch", "cleanup_fit"],
            _ => ["cleanup_fit"],
        };
        Assert.Equal(expected, trace.Skip(at));
        trace.Clear();
        trainer.RemoveCallback(stopped);
        trainer.Fit(1); // still usable
        Assert.Equal("cleanup_fit", trace[^1]);
    }

    [Fact]
    public void A_cancel_raised_in_cleanup_does_not_hide_an_error_in_flight()
    {
        var trainer = TestData.Trainer(4,
            new TraceCB([]) { ThrowAt = Hook.GetLoss, Exception = () => new InvalidOperationException("real") },
            new TraceCB([]) { ThrowAt = Hook.CleanupEpoch, Exception = () => new CancelFitException() });

        var error = Assert.Throws<InvalidOperationException>(() => trainer.Fit(1));

        Assert.Equal("real", error.Message);
        Assert.Empty(Trainer.CleanupErrorsOf(error)); // a cancel is not an error to report
    }
}
