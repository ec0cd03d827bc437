using System.Management.Automation;
using Isaacai.Data;
using Isaacai.Data.Tabular;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// ConvertTo-IsaacDataset: objects (one per row, from Import-Csv, ConvertFrom-Json or any command) into a
/// dataset with train and valid splits, and the fitted preprocessing that a saved model keeps.
/// </summary>
[Cmdlet(VerbsData.ConvertTo, "IsaacDataset")]
[OutputType(typeof(DatasetDict))]
public sealed class ConvertToIsaacDatasetCommand : PSCmdlet
{
    private readonly List<IReadOnlyDictionary<string, object?>> _rows = [];

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Target { get; set; } = "";

    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string[]? Feature { get; set; }

    /// <summary>Feature columns to read as categories even when their values are numbers.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Category { get; set; }

    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double ValidFraction { get; set; } = 0.2;

    [Parameter]
    public int Seed { get; set; } = 42;

    [Parameter]
    public TaskKind Task { get; set; }

    [Parameter]
    public MissingValuePolicy MissingValue { get; set; } = MissingValuePolicy.Error;

    [Parameter]
    public CategoryEncoding CategoryEncoding { get; set; } = CategoryEncoding.OneHot;

    [Parameter]
    public UnknownCategoryPolicy UnknownCategory { get; set; } = UnknownCategoryPolicy.Error;

    protected override void ProcessRecord()
    {
        if (InputObject is not null) _rows.Add(PSValues.Properties(InputObject));
    }

    protected override void EndProcessing()
    {
        var options = new TabularOptions(Target)
        {
            Features = Feature,
            Categories = Category,
            ValidFraction = ValidFraction,
            Seed = Seed,
            Task = MyInvocation.BoundParameters.ContainsKey(nameof(Task)) ? Task : null,
            MissingValue = MissingValue,
            CategoryEncoding = CategoryEncoding,
            UnknownCategory = UnknownCategory,
        };
        try
        {
            if (_rows.Count == 0) throw new TabularDataException("No objects came in: pipe in the rows (Import-Csv data.csv | ConvertTo-IsaacDataset -Target column).");
            var dataset = TabularDatasets.FromTable(TabularTable.FromRecords(_rows), options, new PipelineReporter(this));
            WriteVerbose($"{dataset}; inputs: {dataset.Processor!.Width} ({string.Join(", ", dataset.Processor.Features.Select(f => $"{f.Name}: {f.Kind}{(f.IsEmbedded ? " (embedded)" : "")}"))})");
            WriteObject(dataset);
        }
        catch (TabularDataException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidTabularData", ErrorCategory.InvalidData, e.Column ?? Target));
        }
        catch (ArgumentOutOfRangeException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidValidFraction", ErrorCategory.InvalidArgument, ValidFraction));
        }
    }
}
