using System.Management.Automation;
using Isaacai.Plots;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Export-IsaacPlot: a PNG of what a trainer's callbacks recorded in its last fit (loss, metrics or learning
/// rate), written atomically. Returns the file.
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

    protected override void ProcessRecord()
    {
        if (ConfirmWrite($"a {Kind} plot ({Width}x{Height} PNG)", "PlotFileExists") is not { } path) return;
        try
        {
            TrainingPlots.Save(Trainer, Kind, path, Width, Height);
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
