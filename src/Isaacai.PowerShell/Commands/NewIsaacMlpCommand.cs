using System.Management.Automation;
using Isaacai.Data;
using Isaacai.Models;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// New-IsaacMlp: a multilayer perceptron, sized by hand or from a dataset; for a dataset with embedded category
/// columns, an <see cref="EmbeddingMlp"/> (an embedding per such column, then the MLP).
/// </summary>
[Cmdlet(VerbsCommon.New, "IsaacMlp")]
[OutputType(typeof(Mlp), typeof(EmbeddingMlp))]
public sealed class NewIsaacMlpCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [AllowEmptyCollection]
    [ValidateRange(1, int.MaxValue)]
    public int[] HiddenSize { get; set; } = [];

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int InputSize { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int OutputSize { get; set; }

    [Parameter]
    public MlpActivation Activation { get; set; } = MlpActivation.ReLU;

    [Parameter]
    [ValidateRange(0.0, 0.999)]
    public double Dropout { get; set; }

    [Parameter]
    public SwitchParameter BatchNorm { get; set; }

    [Parameter(ValueFromPipeline = true)]
    public DatasetDict? Dataset { get; set; }

    /// <summary>Embedding widths by column name, overriding fastai's rule for those columns.</summary>
    [Parameter]
    [ValidateNotNull]
    public System.Collections.Hashtable? EmbeddingSize { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            int inputs = DatasetShapes.Resolve(nameof(InputSize), DatasetShapes.Bound(MyInvocation, nameof(InputSize), InputSize), Dataset, DatasetShapes.FlatInputSize);
            int outputs = DatasetShapes.Resolve(nameof(OutputSize), DatasetShapes.Bound(MyInvocation, nameof(OutputSize), OutputSize), Dataset, DatasetShapes.OutputSize);
            if (Dataset?.Processor is { EmbeddedInputs.Count: > 0 } processor)
                WriteObject(new EmbeddingMlp(EmbeddingMlpOptions.For(processor, HiddenSize, outputs, Sizes(), Activation, Dropout, BatchNorm)));
            else if (EmbeddingSize is not null)
                throw new ArgumentException("-EmbeddingSize sizes the embeddings of a dataset's embedded category columns; give a dataset converted with -CategoryEncoding Embedding or Auto.");
            else WriteObject(new Mlp(inputs, HiddenSize, outputs, Activation, Dropout, BatchNorm));
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidModelSize", ErrorCategory.InvalidArgument, Dataset));
        }
    }

    /// <summary>-EmbeddingSize as column → width; a width that is not a whole number of at least 1 is an error naming its column.</summary>
    private Dictionary<string, int>? Sizes()
    {
        if (EmbeddingSize is null) return null;
        var sizes = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (System.Collections.DictionaryEntry entry in EmbeddingSize)
        {
            var name = PSValues.Unwrap(entry.Key)?.ToString() ?? "";
            var value = PSValues.Unwrap(entry.Value);
            if (value is not (int or long or short or byte) || Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) is < 1 or > 100_000)
                throw new ArgumentException($"-EmbeddingSize gives '{name}' the width {value ?? "null"}; a width is a whole number from 1 to 100000.");
            sizes[name] = Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
        }
        return sizes;
    }
}
