using System.Management.Automation;
using Isaacai.Inference;
using Isaacai.SavedModels;
using static TorchSharp.torch;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Import-IsaacModel: a saved model as a predictor. The module's own models are rebuilt from the file; a
/// model of your own, or plain weights (safetensors, a PyTorch state dict), load into the -Model you pass.
/// </summary>
[Cmdlet(VerbsData.Import, "IsaacModel")]
[OutputType(typeof(Predictor))]
public sealed class ImportIsaacModelCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(Position = 1)]
    public nn.Module<Tensor, Tensor>? Model { get; set; }

    protected override void ProcessRecord()
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        try { WriteObject(ModelFile.Load(path, Model)); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            ThrowTerminatingError(new ErrorRecord(new FileNotFoundException($"There is no model file {path}.", path, e), "ModelFileNotFound", ErrorCategory.ObjectNotFound, path));
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "ModelRequired", ErrorCategory.InvalidArgument, path));
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidModelFile", ErrorCategory.InvalidData, path));
        }
    }
}
