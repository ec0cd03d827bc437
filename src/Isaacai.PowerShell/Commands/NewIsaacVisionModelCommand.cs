using System.Management.Automation;
using Isaacai.Data;
using Isaacai.Data.Images;
using Isaacai.Models.Vision;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// New-IsaacVisionModel: an image classifier over one of TorchVision's architectures, its head sized to the classes,
/// optionally with torchvision weights loaded from a file (the old head skipped).
/// </summary>
[Cmdlet(VerbsCommon.New, "IsaacVisionModel")]
[OutputType(typeof(VisionModel))]
public sealed class NewIsaacVisionModelCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(VisionArchitectureCompleter))]
    [ValidateNotNullOrEmpty]
    public string Architecture { get; set; } = "";

    [Parameter(ValueFromPipeline = true)]
    public DatasetDict? Dataset { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int OutputSize { get; set; }

    [Parameter]
    [ValidateSet("1", "3")]
    public int InputChannels { get; set; }

    /// <summary>torchvision weights: a torch.save(state_dict) file or safetensors.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? WeightsPath { get; set; }

    protected override void ProcessRecord()
    {
        VisionModel model;
        try
        {
            int channels = DatasetShapes.Resolve(nameof(InputChannels), DatasetShapes.Bound(MyInvocation, nameof(InputChannels), InputChannels) ?? (Dataset is null ? 3 : null), Dataset, DatasetShapes.Channels);
            int outputs = DatasetShapes.Resolve(nameof(OutputSize), DatasetShapes.Bound(MyInvocation, nameof(OutputSize), OutputSize), Dataset, DatasetShapes.OutputSize);
            model = new VisionModel(new VisionModelOptions(Architecture, outputs, channels));
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, VisionArchitecture.All.ContainsKey(Architecture) ? "InvalidModelSize" : "UnknownArchitecture", ErrorCategory.InvalidArgument, Dataset ?? (object)Architecture));
            return;
        }
        if (WeightsPath is not null) LoadWeights(model, SessionState.Path.GetUnresolvedProviderPathFromPSPath(WeightsPath));
        WriteObject(model);
    }

    private void LoadWeights(VisionModel model, string path)
    {
        try
        {
            var skipped = model.LoadPretrained(path);
            WriteVerbose(skipped.Count == 0 ? $"Loaded every tensor of {path}."
                : $"Loaded {path}; its head ({string.Join(", ", skipped)}) is sized for other classes and was left out, so the new head starts from random weights.");
            if (Dataset?.Images is { } images)
            {
                // The weights learnt from images normalized with ImageNet's statistics: the dataset's files now are too.
                Dataset.Images = images.WithImageNetNormalization();
                WriteVerbose($"The dataset's images are now normalized as the pretrained weights expect: {Dataset.Images}.");
            }
            else WriteVerbose($"Pretrained weights expect images normalized with ImageNet's statistics: mean {string.Join(", ", ImagePipeline.ImageNetMean)}, std {string.Join(", ", ImagePipeline.ImageNetStd)} ([Isaacai.Data.Images.ImagePipeline]::ImageNetMean, ImageNetStd); an image dataset given with -Dataset switches to them.");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            model.Dispose();
            ThrowTerminatingError(new ErrorRecord(new FileNotFoundException($"There is no weights file {path}.", path, e), "WeightsFileNotFound", ErrorCategory.ObjectNotFound, path));
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            model.Dispose();
            ThrowTerminatingError(new ErrorRecord(e, "WeightsDoNotFit", ErrorCategory.InvalidData, path));
        }
    }
}
