using System.Management.Automation;
using Isaacai.Callbacks;
using Isaacai.Schedules;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Find-IsaacLearningRate: the LR range test. Trains with an exponentially growing learning rate until the
/// loss diverges, then puts the trainer back as it was, and outputs what it found: the points and a
/// suggested learning rate.
/// </summary>
[Cmdlet(VerbsCommon.Find, "IsaacLearningRate")]
[OutputType(typeof(LRFinderResult))]
public sealed class FindIsaacLearningRateCommand : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stop = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Trainer Trainer { get; set; } = null!;

    [Parameter]
    [ValidateRange(double.Epsilon, double.MaxValue)]
    public double StartLr { get; set; } = 1e-7;

    [Parameter]
    [ValidateRange(double.Epsilon, double.MaxValue)]
    public double EndLr { get; set; } = 10;

    [Parameter]
    [ValidateRange(2, int.MaxValue)]
    public int Iterations { get; set; } = 100;

    /// <summary>The test stops when the smoothed loss exceeds this many times its best.</summary>
    [Parameter]
    [ValidateRange(1.0, double.MaxValue)]
    public double StopDivergence { get; set; } = 4;

    protected override void ProcessRecord()
    {
        var (previousReporter, previousLogger) = (Trainer.Reporter, Trainer.Logger);
        // The test's epochs are not results: they are not written out, but warnings and verbose messages are.
        (Trainer.Reporter, Trainer.Logger) = (NullTrainingReporter.Instance, new PipelineReporter(this));
        try
        {
            using var finder = new LRFinderCB(StartLr, EndLr, Iterations, StopDivergence);
            var result = LRFinder.Run(Trainer, finder, _stop.Token);
            WriteVerbose($"LR range test: {result.Points.Count} batches from {result.Points[0].Lr:G3} to {result.Points[^1].Lr:G3}; steepest descent at {result.SteepLr:G3}, valley at {result.ValleyLr:G3}.");
            WriteObject(result);
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidLRFinderArgument", ErrorCategory.InvalidArgument, Trainer));
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "LRFinderFailed", ErrorCategory.InvalidOperation, Trainer));
        }
        finally
        {
            (Trainer.Reporter, Trainer.Logger) = (previousReporter, previousLogger);
        }
    }

    protected override void StopProcessing() => _stop.Cancel();

    public void Dispose() => _stop.Dispose();
}
