using System.Management.Automation;
using System.Runtime.InteropServices;
using Isaacai.Data.Images;
using Isaacai.Data.Tabular;
using Isaacai.Inference;
using static TorchSharp.torch;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Invoke-IsaacPredict: each input row comes back with Prediction (and, for classes, Probability and
/// Probabilities): a row that is a PSCustomObject (Import-Csv, ConvertFrom-Json) or a hashtable comes back as
/// a new PSCustomObject with the row's properties or keys and the prediction's; any other object as a copy of
/// itself with the prediction's properties added. Rows go through the model's own preprocessing, in batches; a
/// bad row is one error, and the other rows go on. A tensor of samples gives one prediction object per sample.
/// For a model trained on images, files (FileInfo objects or paths) give one object per file, with its Path.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "IsaacPredict")]
[OutputType(typeof(PSObject))]
public sealed class InvokeIsaacPredictCommand : PSCmdlet
{
    private readonly List<(PSObject Input, List<KeyValuePair<string, object?>>? Cells, float[] Row)> _pending = [];
    private Dictionary<string, int>? _featureIndex;
    private readonly List<string> _pendingFiles = [];
    private Predictor _predictor = null!;
    private Trainer? _trainer;
    private long _row;

    [Parameter(Mandatory = true, Position = 0)]
    public object Model { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int BatchSize { get; set; } = 256;

    protected override void BeginProcessing()
    {
        Predictor? predictor = PSValues.Unwrap(Model) switch
        {
            Predictor given => given,
            Trainer trainer => Predictor.FromTrainer(_trainer = trainer),
            nn.Module<Tensor, Tensor> module => new Predictor(module),
            _ => null,
        };
        if (predictor is not null) _predictor = predictor;
        else ThrowTerminatingError(new ErrorRecord(new ArgumentException($"-Model takes a predictor (Import-IsaacModel), a trainer or a TorchSharp module; got {PSValues.Unwrap(Model)?.GetType().FullName ?? "null"}."),
                "NotAModel", ErrorCategory.InvalidArgument, Model));
    }

    protected override void ProcessRecord()
    {
        if (InputObject is null) return;
        // An array given to -InputObject (or by position) is rows, as the pipeline would give them one by one.
        if (InputObject.BaseObject is not Tensor && PSValues.Rows(InputObject) is { } rows)
            foreach (var row in rows) PredictOne(row);
        else PredictOne(InputObject);
    }

    private void PredictOne(PSObject input)
    {
        _row++;
        if (input.BaseObject is Tensor samples)
        {
            Flush();
            FlushFiles(); // what came before goes out before it
            Run(() => { foreach (var prediction in _predictor.Predict(samples, BatchSize)) WriteObject(Shape(new PSObject(), prediction)); }, samples);
            return;
        }
        if (_predictor.Images is not null && input.BaseObject is DirectoryInfo folder)
        {
            WriteError(new ErrorRecord(new ImageFileException(folder.FullName, "is a folder, not an image file; pass its files (Get-ChildItem -File)"),
                "UnreadableImage", ErrorCategory.ReadError, folder.FullName));
            return;
        }
        if (_predictor.Images is not null && input.BaseObject is FileInfo or string)
        {
            var path = input.BaseObject is FileInfo file ? file.FullName : SessionState.Path.GetUnresolvedProviderPathFromPSPath((string)input.BaseObject);
            _pendingFiles.Add(path);
            if (_pendingFiles.Count >= BatchSize) FlushFiles();
            return;
        }
        var processor = _predictor.Processor;
        if (processor is null)
        {
            Flush();
            FlushFiles(); // the files queued so far still get their predictions
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException(_predictor.Images is not null
                    ? $"This model was trained on images: pass image files (Get-ChildItem *.jpg, or paths) or tensors of samples, not {input.BaseObject.GetType().Name} objects."
                    : "This model was not trained on a table, so it cannot read objects' properties: pass tensors of samples instead."),
                "NoPreprocessing", ErrorCategory.InvalidArgument, input));
            return;
        }
        try
        {
            var (cells, values) = FeatureValues(input, processor);
            var row = new float[processor.Width];
            processor.EncodeRow(values, _row, row);
            _pending.Add((input, cells, row));
        }
        catch (TabularDataException e)
        {
            WriteError(new ErrorRecord(e, "InvalidRow", ErrorCategory.InvalidData, input));
        }
        if (_pending.Count >= BatchSize) Flush();
    }

    /// <summary>
    /// The row's values of the model's features, in order, read in one pass over its properties; and, for a
    /// PSCustomObject or a dictionary, all its properties, for the output object. A property that is absent is a
    /// missing value, as in training: the model's fill value, if it was trained with one.
    /// </summary>
    private (List<KeyValuePair<string, object?>>? Cells, object?[] Values) FeatureValues(PSObject input, TabularProcessor processor)
    {
        _featureIndex ??= processor.Features.Select((f, i) => (f.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.OrdinalIgnoreCase);
        var values = new object?[processor.Features.Count];
        var named = new string?[values.Length];
        bool keep = input.BaseObject is PSCustomObject or System.Collections.IDictionary;
        var cells = keep ? new List<KeyValuePair<string, object?>>() : null;
        foreach (var cell in PSValues.Cells(input))
        {
            cells?.Add(cell);
            if (!_featureIndex.TryGetValue(cell.Key, out int i)) continue;
            // A case-sensitive dictionary may hold Age and age: taking either would silently drop the other.
            if (named[i] is { } earlier)
                throw new TabularDataException($"The keys '{earlier}' and '{cell.Key}' differ only in case; '{processor.Features[i].Name}' is matched ignoring case, so it is not clear which is meant. Rename one of them.", cell.Key, _row);
            named[i] = cell.Key;
            values[i] = cell.Value;
        }
        for (int i = 0; i < values.Length; i++)
            if (named[i] is null && processor.Features[i].Fill is null)
                throw new TabularDataException($"Row {_row} has no property '{processor.Features[i].Name}'; this model needs {string.Join(", ", processor.FeatureNames)}, and was trained with MissingValue {processor.MissingValue}, which fills nothing in.", processor.Features[i].Name, _row);
        return (cells, values);
    }

    protected override void EndProcessing()
    {
        Flush();
        FlushFiles();
    }

    /// <summary>The queued files' predictions, in order; a file that cannot be read is one error, and the others go on.</summary>
    private void FlushFiles()
    {
        if (_pendingFiles.Count == 0) return;
        var files = _pendingFiles.ToArray();
        _pendingFiles.Clear();
        Run(() =>
        {
            foreach (var result in _predictor.PredictFiles(files, BatchSize))
            {
                if (result.Error is { } error) WriteError(new ErrorRecord(error, "UnreadableImage", ErrorCategory.ReadError, result.Path));
                else
                {
                    var item = new PSObject();
                    item.Properties.Add(new PSNoteProperty("Path", result.Path));
                    WriteObject(Shape(item, result.Prediction!));
                }
            }
        }, files[0]);
    }

    private void Flush()
    {
        if (_pending.Count == 0) return;
        var batch = _pending.ToArray();
        _pending.Clear();
        int width = batch[0].Row.Length;
        var data = new float[batch.Length * width];
        for (int i = 0; i < batch.Length; i++) batch[i].Row.CopyTo(data, i * width);
        Run(() =>
        {
            using var inputs = tensor(data, [batch.Length, width]);
            var predictions = _predictor.Predict(inputs, BatchSize);
            for (int i = 0; i < batch.Length; i++) WriteObject(Shape(batch[i].Cells is { } cells ? NewRow(cells) : batch[i].Input.Copy(), predictions[i]));
        }, batch[0].Input);
    }

    /// <summary>
    /// A model failure (a shape mismatch in libtorch, say) is one terminating error, not a crash. A trainer's
    /// model predicts only between jobs: a fit in another runspace would see its eval mode and batch norm.
    /// </summary>
    private void Run(Action predict, object target)
    {
        try
        {
            using (_trainer?.ClaimOrJoin()) predict();
        }
        catch (TrainerBusyException e)
        {
            ThrowTerminatingError(EngineErrors.Busy(e, _trainer!));
        }
        catch (Exception e) when (e is ExternalException or InvalidOperationException or ArgumentException)
        {
            if (EngineErrors.HasNativeFrames(e.Message)) WriteVerbose(e.Message); // libtorch's C++ stack, for a bug report
            ThrowTerminatingError(EngineErrors.Describe(e, new ErrorRecord(e, "PredictionFailed", ErrorCategory.InvalidOperation, target)));
        }
    }

    /// <summary>A new PSCustomObject with the row's properties, in order.</summary>
    private static PSObject NewRow(List<KeyValuePair<string, object?>> cells)
    {
        var item = new PSObject();
        foreach (var (name, value) in cells) item.Properties.Add(new PSNoteProperty(name, value));
        return item;
    }

    /// <summary>Adds (or replaces) Prediction, and for classes Probability and Probabilities, on <paramref name="item"/>.</summary>
    private static PSObject Shape(PSObject item, Prediction prediction)
    {
        Set(item, "Prediction", prediction.Value);
        if (prediction.Probabilities is { } byClass)
        {
            var probabilities = new PSObject();
            foreach (var (name, p) in byClass) probabilities.Properties.Add(new PSNoteProperty(name, p));
            Set(item, "Probability", prediction.Probability);
            Set(item, "Probabilities", probabilities);
        }
        return item;
    }

    private static void Set(PSObject item, string name, object? value)
    {
        if (item.Properties[name] is PSNoteProperty existing) existing.Value = value;
        else
        {
            item.Properties.Remove(name);
            item.Properties.Add(new PSNoteProperty(name, value));
        }
    }
}
