using System.Management.Automation;
using Isaacai.Data;

namespace Isaacai.PowerShell.Commands;

/// <summary>Get-IsaacDataset: Fashion-MNIST, the shipped sample by default or the full set with -Full.</summary>
[Cmdlet(VerbsCommon.Get, "IsaacDataset", SupportsShouldProcess = true)]
[OutputType(typeof(DatasetDict))]
public sealed class GetIsaacDatasetCommand : PSCmdlet
{
    [Parameter(Position = 0)]
    [ValidateSet("FashionMNIST", IgnoreCase = true)]
    public string Name { get; set; } = "FashionMNIST";

    [Parameter]
    public SwitchParameter Full { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = FashionMnist.DefaultCacheFolder;

    [Parameter]
    [ValidateRange(double.Epsilon, double.MaxValue)]
    public double Sample { get; set; }

    [Parameter]
    public long Seed { get; set; } = 42;

    protected override void ProcessRecord()
    {
        bool sampling = MyInvocation.BoundParameters.ContainsKey(nameof(Sample));
        if (sampling && Sample >= 1 && (Sample != Math.Floor(Sample) || Sample > int.MaxValue))
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"-Sample {Sample} is neither a fraction below 1 nor a whole number of samples."),
                "InvalidSample", ErrorCategory.InvalidArgument, Sample));
        try
        {
            DatasetDict data;
            if (Full)
            {
                var folder = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
                if (!FashionMnist.HasAllFiles(folder) && !ShouldProcess(folder, "Download Fashion-MNIST")) return;
                data = FashionMnist.Load(folder, new PipelineReporter(this));
            }
            else data = FashionMnist.LoadSample();
            WriteObject(sampling ? SampleOf(data) : data);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or HttpRequestException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "DatasetUnavailable", ErrorCategory.ReadError, Path));
        }
    }

    /// <summary>Below 1, a fraction of each split; from 1 up, a whole number of samples per split.</summary>
    private DatasetDict SampleOf(DatasetDict data)
    {
        if (Sample >= 1 && data.FirstOrDefault(split => split.Value.Count < Sample) is { Value: not null } small)
        {
            var message = $"-Sample {Sample} is more samples than split '{small.Key}' holds ({string.Join(", ", data.Select(split => $"{split.Key} {split.Value.Count}"))}). "
                + $"Ask for at most {data.Values.Min(split => split.Count)} per split, or a fraction below 1.";
            foreach (var split in data.Values) split.Dispose();
            ThrowTerminatingError(new ErrorRecord(new ArgumentOutOfRangeException(nameof(Sample), message), "SampleLargerThanSplit", ErrorCategory.InvalidArgument, Sample));
        }
        var sampled = Sample < 1 ? Isaac.SampleDatasetDict(data, Sample, Seed) : Isaac.SampleDatasetDict(data, (int)Sample, Seed);
        foreach (var split in data.Values) split.Dispose(); // the sample is a copy: free the native memory of the whole now
        return sampled;
    }
}
