using System.Management.Automation;
using Isaacai.Plots;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Export-IsaacPlot: a PNG of what a trainer's callbacks recorded in its last fit (loss, metrics or learning
/// rate), or of how its model does on the valid split (confusion matrix, top losses), written atomically.
/// Returns the file.
/// </summary>
[Cmdlet(VerbsData.Export, "IsaacPlot", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(FileInfo))]
public sealed class ExportIsaacPlotCommand : FileWritingCommand
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [TrainerArgument]
    public Trainer Trainer { get; set; } = null!;

    [Parameter]
    public PlotKind Kind { get; set; } = PlotKind.Loss;

    [Parameter]
    [ValidateRange(TrainingPlots.MinSize, TrainingPlots.MaxSize)]
    public int Width { get; set; } = TrainingPlots.DefaultWidth;

    [Parameter]
    [ValidateRange(TrainingPlots.MinSize, TrainingPlots.MaxSize)]
    public int Height { get; set; } = TrainingPlots.DefaultHeight;

    /// <summary>How many samples a TopLosses grid shows.</summary>
    [Parameter]
    [ValidateRange(1, InterpretationPlots.MaxTopLossCount)]
    public int Count { get; set; } = InterpretationPlots.DefaultTopLossCount;

    protected override void ProcessRecord()
    {
        if (MyInvocation.BoundParameters.ContainsKey(nameof(Count)) && Kind != PlotKind.TopLosses)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"-Count is the number of images in a TopLosses grid; a {Kind} plot has none."),
                "CountWithoutTopLosses", ErrorCategory.InvalidArgument, Count));
        bool interpreting = Kind is PlotKind.ConfusionMatrix or PlotKind.TopLosses;
        if (ConfirmWrite($"a {Kind} plot ({Width}x{Height} PNG{(Kind == PlotKind.TopLosses ? $", {Count} images" : "")})", "PlotFileExists") is not { } path) return;
        try
        {
            TrainingPlots.Save(Trainer, Kind, path, Width, Height, Count);
        }
        catch (Exception e) when (interpreting && Interpretations.ErrorFor(this, e, Trainer) is { } record)
        {
            ThrowTerminatingError(record);
            return;
        }
        catch (InvalidOperationException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "NothingToPlot", ErrorCategory.ObjectNotFound, Trainer));
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "PlotNotWritten", ErrorCategory.WriteError, path));
            return;
        }
        WriteVerbose($"Wrote a {Kind} plot to {path} ({new FileInfo(path).Length:N0} bytes)");
        // Through the provider, so the file carries PSPath and friends and formats as Get-Item's do.
        WriteObject(InvokeProvider.Item.Get([path], force: false, literalPath: true), enumerateCollection: true);
    }
}
