using System.Management.Automation;
using Isaacai.Callbacks;
using Isaacai.Schedules;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Find-IsaacLearningRate: the LR range test. Trains with an exponentially growing learning rate until the
/// loss diverges, then puts the trainer back as it was, and outputs what it found: the points and a
/// suggested learning rate.
/// </summary>
[Cmdlet(VerbsCommon.Find, "IsaacLearningRate", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(LRFinderResult))]
public sealed class FindIsaacLearningRateCommand : PSCmdlet, IDisposable
{
    private const int SkipEnd = 5;
    private readonly CancellationTokenSource _stop = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [TrainerArgument]
    public Trainer Trainer { get; set; } = null!;

    [Parameter]
    [ValidatePositiveFinite]
    public double StartLr { get; set; } = 1e-7;

    [Parameter]
    [ValidatePositiveFinite]
    public double EndLr { get; set; } = 10;

    [Parameter]
    [ValidateRange(2, int.MaxValue)]
    public int Iterations { get; set; } = 100;

    /// <summary>The test stops when the smoothed loss exceeds this many times its best (+Infinity: never).</summary>
    [Parameter]
    [ValidateRange(1.0, double.PositiveInfinity)]
    public double StopDivergence { get; set; } = 4;

    /// <summary>A PNG to draw the smoothed loss against the learning rate into, with the suggestion marked.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PlotPath { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            using var finder = new LRFinderCB(StartLr, EndLr, Iterations, StopDivergence);
            using var fitting = SharedGenerator.EnterFit(this, Trainer); // the test shuffles, from torch's one generator
            var result = LRFinder.Run(Trainer, finder, _stop.Token, new PipelineReporter(this)); // the test's epochs are not results: only messages are written
            WriteVerbose($"LR range test: {result.Points.Count} batches from {result.Points[0].Lr:G3} to {result.Points[^1].Lr:G3}; steepest descent at {result.SteepLr:G3}, valley at {result.ValleyLr:G3}.");
            if (PlotPath is not null) WritePlot(result, SessionState.Path.GetUnresolvedProviderPathFromPSPath(PlotPath));
            WriteObject(result);
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            // A bad setting fails before the test; anything else failed inside its fit, and reads as a fit's failure does.
            ThrowTerminatingError(e is ArgumentException && !e.Data.Contains(Trainer.FailedHookKey)
                ? new ErrorRecord(e, "InvalidLRFinderArgument", ErrorCategory.InvalidArgument, Trainer)
                : EngineErrors.ForFit(this, e, Trainer, "LRFinderFailed"));
        }
    }

    protected override void StopProcessing() => _stop.Cancel();

    private void WritePlot(LRFinderResult result, string path)
    {
        if (!ShouldProcess(path, $"{(File.Exists(path) ? "Overwrite with" : "Write")} the LR finder plot (PNG)")) return;
        try
        {
            // As fastai's plot_lr_find: the last points, where the loss blew up, would flatten the rest of the curve.
            var shown = result.Points.Count > 2 * SkipEnd ? result.Points.SkipLast(SkipEnd).ToList() : result.Points;
            Isaacai.Plots.TrainingPlots.SaveLearningRateFinder(shown.Select(p => p.Lr).ToList(), shown.Select(p => p.SmoothedLoss).ToList(), result.SuggestedLr, path);
            WriteVerbose($"Wrote the LR finder plot to {path}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            WriteError(new ErrorRecord(e, "PlotNotWritten", ErrorCategory.WriteError, path)); // the result is still worth having
        }
    }

    public void Dispose() => _stop.Dispose();
}
