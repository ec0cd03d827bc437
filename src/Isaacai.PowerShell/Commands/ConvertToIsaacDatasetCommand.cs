using System.Management.Automation;
using Isaacai.Data;
using Isaacai.Data.Tabular;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// ConvertTo-IsaacDataset: objects (one per row, from Import-Csv, ConvertFrom-Json or any command), or a CSV,
/// TSV or Parquet file read directly, into a dataset with train and valid splits, and the fitted preprocessing
/// that a saved model keeps.
/// </summary>
[Cmdlet(VerbsData.ConvertTo, "IsaacDataset", DefaultParameterSetName = ObjectsSet)]
[OutputType(typeof(DatasetDict))]
public sealed class ConvertToIsaacDatasetCommand : PSCmdlet
{
    private const string ObjectsSet = "Objects", PathSet = "Path";
    private TabularTable.Builder _rows = null!;
    private readonly PSValues.RowCells _cells = new();
    private readonly CancellationTokenSource _stop = new();

    /// <summary>One row, or an array of rows: an array given to -InputObject is rows, as on the pipeline.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ObjectsSet)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    /// <summary>A .csv, .tsv or .parquet file, read without making an object per row.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

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

    // Columns other than the target and the categories are held as numbers as they come in, as a file's are.
    protected override void BeginProcessing() => _rows = new TabularTable.Builder([Target, .. Category ?? []]);

    protected override void ProcessRecord()
    {
        if (InputObject is null) return;
        try
        {
            if (PSValues.Rows(InputObject) is { } rows)
            {
                foreach (var row in rows)
                    if (row is not null) Add(row);
            }
            else Add(InputObject);
        }
        catch (TabularDataException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidTabularData", ErrorCategory.InvalidData, e.Column ?? Target));
        }
    }

    private void Add(PSObject row)
    {
        if (PSValues.IsValue(row.BaseObject)) throw new TabularDataException(PSValues.NotARow(row.BaseObject, _rows.RowCount + 1), null, _rows.RowCount + 1);
        _cells.Read(row);
        _rows.Add(_cells.Names.AsSpan(0, _cells.Count), _cells.Values.AsSpan(0, _cells.Count));
    }

    protected override void StopProcessing() => _stop.Cancel();

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
            DatasetDict dataset;
            if (ParameterSetName == PathSet) dataset = TabularDatasets.FromFile(TableFiles.Existing(this, Path), options, new PipelineReporter(this), _stop.Token);
            else
            {
                if (_rows.RowCount == 0) throw new TabularDataException("No objects came in: pipe in the rows (Import-Csv data.csv | ConvertTo-IsaacDataset -Target column), or read a file with -Path.");
                dataset = TabularDatasets.FromTable(_rows.ToTable(), options, new PipelineReporter(this));
            }
            WriteVerbose($"{dataset}; inputs: {dataset.Processor!.Width} ({string.Join(", ", dataset.Processor.Features.Select(f => $"{f.Name}: {f.Kind}{(f.IsEmbedded ? " (embedded)" : "")}"))})");
            WriteObject(dataset);
        }
        catch (TabularDataException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidTabularData", ErrorCategory.InvalidData, e.Column ?? Target));
        }
        catch (InvalidDataException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "UnreadableTableFile", ErrorCategory.InvalidData, Path));
        }
        catch (ArgumentOutOfRangeException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidValidFraction", ErrorCategory.InvalidArgument, ValidFraction));
        }
    }
}
