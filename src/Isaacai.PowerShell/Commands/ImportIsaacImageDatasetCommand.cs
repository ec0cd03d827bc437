using System.Management.Automation;
using Isaacai.Data;
using Isaacai.Data.Images;
using Isaacai.Data.Tabular;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Import-IsaacImageDataset: image files into a dataset with train and valid splits, decoded batch by batch
/// as a fit reads them. From a folder of class folders (split at random, stratified), a folder already
/// split into train and valid folders, a CSV table of paths and labels, or rows piped in.
/// </summary>
[Cmdlet(VerbsData.Import, "IsaacImageDataset", DefaultParameterSetName = FolderSet)]
[OutputType(typeof(DatasetDict))]
public sealed class ImportIsaacImageDatasetCommand : PSCmdlet
{
    private const string FolderSet = "Folder", RowsSet = "Rows";
    private readonly List<ImageFolders.LabelledImage> _rows = [];

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = FolderSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = RowsSet)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    /// <summary>The column (or property) holding each image's path, for a table.</summary>
    [Parameter(ParameterSetName = FolderSet)]
    [Parameter(Mandatory = true, ParameterSetName = RowsSet)]
    [ValidateNotNullOrEmpty]
    public string? ImageProperty { get; set; }

    /// <summary>The column (or property) holding each image's class, for a table.</summary>
    [Parameter(ParameterSetName = FolderSet)]
    [Parameter(Mandatory = true, ParameterSetName = RowsSet)]
    [ValidateNotNullOrEmpty]
    public string? Target { get; set; }

    /// <summary>Where relative paths of piped-in rows start; the current location by default.</summary>
    [Parameter(ParameterSetName = RowsSet)]
    [ValidateNotNullOrEmpty]
    public string? Root { get; set; }

    [Parameter]
    [ValidateCount(1, 2)]
    [ValidateRange(1, ImagePipeline.MaxSide)]
    public int[] Size { get; set; } = [64];

    [Parameter]
    public ResizeMethod ResizeMethod { get; set; } = ResizeMethod.Crop;

    [Parameter]
    [ValidateSet("1", "3")]
    public int Channels { get; set; } = 3;

    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double ValidFraction { get; set; } = 0.2;

    [Parameter]
    public int Seed { get; set; } = 42;

    [Parameter(ParameterSetName = FolderSet)]
    [ValidateNotNullOrEmpty]
    public string TrainFolder { get; set; } = "train";

    [Parameter(ParameterSetName = FolderSet)]
    [ValidateNotNullOrEmpty]
    public string ValidFolder { get; set; } = "valid";

    /// <summary>The default augmentation of train images (<see cref="ImageAugmentation.Default"/>).</summary>
    [Parameter]
    public SwitchParameter Augment { get; set; }

    /// <summary>An augmentation of one's own: an ImageAugmentation, or a hashtable of its settings.</summary>
    [Parameter]
    [ValidateNotNull]
    public ImageAugmentation? Augmentation { get; set; }

    [Parameter]
    [ValidateRange(0, 256)]
    public int Workers { get; set; }

    [Parameter]
    public SwitchParameter SkipUnreadable { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName != RowsSet || InputObject is null) return;
        try { _rows.Add(new(Text(ImageProperty!), Text(Target!))); }
        catch (TabularDataException e) // keys that differ only in case: which one is meant is unclear
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidImageData", ErrorCategory.InvalidData, InputObject));
        }
    }

    protected override void EndProcessing()
    {
        var options = new ImageDatasetOptions
        {
            Height = Size[0],
            Width = Size.Length > 1 ? Size[1] : Size[0],
            Resize = ResizeMethod,
            Channels = Channels,
            ValidFraction = ValidFraction,
            Seed = Seed,
            TrainFolder = TrainFolder,
            ValidFolder = ValidFolder,
            Augmentation = Augmentation ?? (Augment ? ImageAugmentation.Default : null),
            Workers = Workers,
            SkipUnreadable = SkipUnreadable,
        };
        var reporter = new PipelineReporter(this);
        try
        {
            DatasetDict dataset;
            if (ParameterSetName == RowsSet)
            {
                var root = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root ?? ".");
                dataset = ImageFolders.FromTable(_rows, root, options, reporter);
            }
            else
            {
                var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
                dataset = File.Exists(path) ? FromCsv(path, options, reporter) : ImageFolders.FromFolder(path, options, reporter);
            }
            WriteVerbose($"{dataset}; {dataset.Images}");
            WriteObject(dataset);
        }
        catch (Exception e) when (e is InvalidDataException or TabularDataException or ImageFileException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidImageData", ErrorCategory.InvalidData, Path));
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "ImageFolderNotFound", ErrorCategory.ObjectNotFound, Path));
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidImageDataset", ErrorCategory.InvalidArgument, Path));
        }
    }

    /// <summary>A CSV table of image paths (relative to the table's folder, or absolute) and labels.</summary>
    private DatasetDict FromCsv(string path, ImageDatasetOptions options, PipelineReporter reporter)
    {
        if (ImageProperty is null || Target is null)
            throw new ArgumentException($"{path} is a file: to read it as a table of images, name its path column (-ImageProperty) and its label column (-Target).");
        var table = TabularTable.ReadCsv(path);
        int image = Column(table, ImageProperty, path), label = Column(table, Target, path);
        var rows = table.Rows.Select(r => new ImageFolders.LabelledImage(r[image]?.ToString() ?? "", r[label]?.ToString() ?? ""));
        return ImageFolders.FromTable(rows, System.IO.Path.GetDirectoryName(path)!, options, reporter);
    }

    private static int Column(TabularTable table, string name, string path)
    {
        int index = table.IndexOf(name);
        return index >= 0 ? index : throw new InvalidDataException($"{path} has no column '{name}'; its columns are: {string.Join(", ", table.Columns)}.");
    }

    /// <summary>A piped-in row's value of <paramref name="property"/>; a row without it ends the command, naming the row.</summary>
    private string Text(string property)
    {
        var value = PSValues.Property(InputObject!, property, out bool found);
        if (!found)
            ThrowTerminatingError(new ErrorRecord(new InvalidDataException($"Row {_rows.Count + 1} has no property '{property}'; its properties are: {string.Join(", ", PSValues.Properties(InputObject!).Keys)}."),
                "MissingImageProperty", ErrorCategory.InvalidData, InputObject));
        return value?.ToString() ?? "";
    }
}
