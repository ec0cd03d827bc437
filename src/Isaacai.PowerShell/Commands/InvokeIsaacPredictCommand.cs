using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Isaacai.Data;
using Isaacai.Data.Images;
using Isaacai.Data.Tabular;
using Isaacai.Inference;
using static TorchSharp.torch;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Invoke-IsaacPredict: each input row comes back with Prediction (and, for classes, Probability and
/// Probabilities): a hashtable or PSCustomObject row comes back as a <see cref="PredictedRow"/> with its keys or
/// properties and the prediction's; any other object as a copy of itself with them added. Rows go through the model's own preprocessing, in batches; a
/// bad row is one error, and the other rows go on. A tensor of samples gives one prediction object per sample.
/// For a model trained on images, files (FileInfo objects or paths) give one object per file, with its Path.
/// With -Path and -OutFile, a CSV, TSV or Parquet file's rows are predicted into a CSV or TSV file, streamed.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "IsaacPredict", DefaultParameterSetName = ObjectsSet, SupportsShouldProcess = true)]
// PredictedRow and PSObject for rows and samples; FileInfo, the output file, with -Path and -OutFile.
[OutputType(typeof(PredictedRow), typeof(PSObject), typeof(FileInfo))]
public sealed class InvokeIsaacPredictCommand : PSCmdlet
{
    private const string ObjectsSet = "Objects", FileSet = "File";
    private readonly CancellationTokenSource _stop = new();
    // Rows waiting for their predictions: the input, and for a dictionary or PSCustomObject the output row's
    // names and values (the cells, with the prediction's places left empty); their encoded rows in _encoded.
    private readonly List<(PSObject Input, RowShape? Shape, object?[]? Values)> _pending = [];
    private float[] _encoded = [];
    private readonly PSValues.RowCells _cells = new();
    private object?[] _featureValues = [];
    private RowShape? _shape;
    private string[]? _classNames;
    private readonly List<string> _pendingFiles = [];
    private Predictor _predictor = null!;
    private Trainer? _trainer;
    private long _row;
    private bool _warnedOfReplacing;

    [Parameter(Mandatory = true, Position = 0)]
    public object Model { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ParameterSetName = ObjectsSet)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    /// <summary>A .csv, .tsv or .parquet file of rows to predict, read a chunk at a time.</summary>
    [Parameter(Mandatory = true, ParameterSetName = FileSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The .csv or .tsv file to write: each input row, then Prediction (and Probability, for classes).</summary>
    [Parameter(Mandatory = true, ParameterSetName = FileSet)]
    [ValidateNotNullOrEmpty]
    public string OutFile { get; set; } = "";

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
        // An array given to -InputObject (or by position) is rows, as the pipeline would give them one by one.
        if (InputObject is not null && InputObject.BaseObject is not Tensor && PSValues.Rows(InputObject) is { } rows)
            foreach (var row in rows) PredictOne(row);
        else PredictOne(InputObject);
    }

    private void PredictOne(PSObject? input)
    {
        _row++;
        if (input is null) return; // skipped, but counted: errors name a row by its place among the inputs
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
        if (PSValues.IsValue(input.BaseObject))
        {
            WriteError(new ErrorRecord(new TabularDataException(PSValues.NotARow(input.BaseObject, _row), null, _row), "InvalidRow", ErrorCategory.InvalidType, input));
            return;
        }
        try
        {
            Encode(input, processor);
        }
        catch (TabularDataException e)
        {
            WriteError(new ErrorRecord(e, "InvalidRow", ErrorCategory.InvalidData, input));
        }
        // Rows are predicted some thousands at a time, the model still seeing batches of BatchSize.
        if (_pending.Count >= BatchSize * Math.Max(1, RowsPerFlush / BatchSize)) Flush();
    }

    private const int RowsPerFlush = 4096;

    /// <summary>Up to this many classes, a row's Probabilities read the batch's array, which a kept row keeps alive (4,096 × 32 doubles: 1 MB).</summary>
    private const int ClassesSharingTheBatch = 32;

    /// <summary>
    /// Encodes the row's values of the model's features into the next row of <see cref="_encoded"/> and queues it.
    /// A property that is absent is a missing value, as in training: the model's fill value, if it was trained with one.
    /// </summary>
    // Per row or cell from a cold start: optimized at once, not tiered up partway through (the objects path 20% faster).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Encode(PSObject input, TabularProcessor processor)
    {
        _cells.Read(input);
        var names = _cells.Names.AsSpan(0, _cells.Count);
        var shape = _shape is not null && names.SequenceEqual(_shape.Names) ? _shape : NewShape(names, processor);
        shape.ThrowIfUnusable(processor, _row);
        if (_featureValues.Length != processor.Features.Count) _featureValues = new object?[processor.Features.Count];
        Array.Clear(_featureValues);
        for (int i = 0; i < names.Length; i++)
            if (shape.Features[i] >= 0) _featureValues[shape.Features[i]] = _cells.Values[i];
        int width = processor.Width, at = _pending.Count * width;
        if (_encoded.Length < at + width) Array.Resize(ref _encoded, Math.Max(at + width, 2 * _encoded.Length));
        processor.EncodeRow(_featureValues, _row, _encoded.AsSpan(at, width));
        // A hashtable's keys or a PSCustomObject's properties go out as a PredictedRow's; any other object is copied.
        if (input.BaseObject is System.Collections.IDictionary or PSCustomObject)
        {
            var values = new object?[shape.OutputNames.Length];
            _cells.Values.AsSpan(0, names.Length).CopyTo(values);
            _pending.Add((input, shape, values));
        }
        else _pending.Add((input, null, null));
    }

    /// <summary>Rows of another shape from here on; the first whose own Prediction (say) is replaced says so, once.</summary>
    private RowShape NewShape(ReadOnlySpan<string> names, TabularProcessor processor)
    {
        var shape = _shape = new RowShape(names, processor, PredictionNames(processor.Target));
        var replaced = shape.PredictionSlots.Where(slot => slot < shape.Names.Length).Select(slot => shape.OutputNames[slot]).ToArray();
        if (replaced.Length == 0 || _warnedOfReplacing) return shape;
        _warnedOfReplacing = true;
        WriteWarning($"Row {_row} has properties of its own named {string.Join(" and ", replaced)}: in the rows given back, the prediction replaces them. Rename them (Select-Object) to keep them.");
        return shape;
    }

    /// <summary>The cells a prediction adds to a row: Prediction, and for classes Probability and Probabilities.</summary>
    private static string[] PredictionNames(TargetSpec target) =>
        target.Task == TaskKind.Classification ? ["Prediction", "Probability", "Probabilities"] : ["Prediction"];

    /// <summary>
    /// Rows with the same names in the same order (all of Import-Csv's, say): where each name goes among the model's
    /// features, what is wrong with such a row, if anything, and the names of the rows that go out.
    /// </summary>
    private sealed class RowShape
    {
        public RowShape(ReadOnlySpan<string> names, TabularProcessor processor, string[] predictionNames)
        {
            Names = names.ToArray();
            Features = new int[Names.Length];
            var featureNames = processor.FeatureNames.ToArray();
            var named = new string?[featureNames.Length];
            for (int i = 0; i < Names.Length; i++)
            {
                int feature = Features[i] = PSValues.IndexOfName(featureNames, Names[i]);
                if (feature < 0) continue;
                // A case-sensitive dictionary may hold Age and age: taking either would silently drop the other.
                if (named[feature] is { } earlier) Twice ??= (earlier, Names[i], feature);
                named[feature] = Names[i];
            }
            Lacking = Enumerable.Range(0, named.Length).Where(f => named[f] is null && processor.Features[f].Fill is null).Select(f => (int?)f).FirstOrDefault();
            HasNoFeature = named.All(name => name is null);
            (OutputNames, PredictionSlots) = PredictedRow.Layout(Names, predictionNames);
        }

        public string[] Names { get; }

        /// <summary>For each name, the index of its feature, or -1.</summary>
        public int[] Features { get; }

        public string[] OutputNames { get; }

        /// <summary>Where the prediction's cells go among <see cref="OutputNames"/>.</summary>
        public int[] PredictionSlots { get; }

        private (string Earlier, string Key, int Feature)? Twice { get; }

        /// <summary>A feature that such a row lacks and that the model fills nothing in for.</summary>
        private int? Lacking { get; }

        /// <summary>Such a row has none of the model's features: filling every one in would predict from nothing.</summary>
        private bool HasNoFeature { get; }

        public void ThrowIfUnusable(TabularProcessor processor, long row)
        {
            if (HasNoFeature)
                throw new TabularDataException($"Row {row} has none of this model's columns ({string.Join(", ", processor.FeatureNames)}); {(Names.Length == 0 ? "it has no properties" : $"its properties are {string.Join(", ", Names)}")}. Names are matched ignoring case.", null, row);
            if (Twice is var (earlier, key, feature))
                throw new TabularDataException(PSValues.KeysDifferOnlyInCase(earlier, key, processor.Features[feature].Name), key, row);
            if (Lacking is { } lacking)
                throw new TabularDataException($"Row {row} has no property '{processor.Features[lacking].Name}'; this model needs {string.Join(", ", processor.FeatureNames)}, and was trained with MissingValue {processor.MissingValue}, which fills nothing in.", processor.Features[lacking].Name, row);
        }
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName == FileSet) PredictFile();
        Flush();
        FlushFiles();
    }

    protected override void StopProcessing() => _stop.Cancel();

    /// <summary>-Path into -OutFile: one error for a bad file or row, and then no output file.</summary>
    private void PredictFile()
    {
        var input = TableFiles.Existing(this, Path);
        var output = SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutFile);
        if (_predictor.Processor is null)
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException("This model was not trained on a table, so it cannot read a file's rows: -Path takes a table file for a model trained on one."),
                "NoPreprocessing", ErrorCategory.InvalidArgument, input));
        if (!ShouldProcess(output, $"Write predictions for the rows of {input}")) return;
        try
        {
            long rows = 0;
            Run(() => rows = TabularFilePredictions.Predict(_predictor, input, output, TabularFilePredictions.DefaultChunkRows, _stop.Token, new PipelineReporter(this)), input);
            WriteVerbose($"Predicted {rows} rows of {input} into {output}.");
            WriteObject(FileWritingCommand.WrittenFile(this, output));
        }
        catch (TabularDataException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidTabularData", ErrorCategory.InvalidData, e.Column ?? input));
        }
        catch (InvalidDataException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "UnreadableTableFile", ErrorCategory.InvalidData, input));
        }
        catch (IOException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "OutFileNotWritten", ErrorCategory.WriteError, output));
        }
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
        try
        {
            Run(() => WritePredictions(_predictor.PredictEncodedRows(_encoded.AsSpan(0, _pending.Count * _predictor.Processor!.Width), BatchSize)), _pending[0].Input);
        }
        finally
        {
            _pending.Clear();
        }
    }

    /// <summary>Each pending row with its prediction: a <see cref="PredictedRow"/>, or a copy of the input object with the prediction added.</summary>
    // Per row or cell from a cold start: optimized at once, not tiered up partway through (the objects path 20% faster).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WritePredictions(PredictionBatch predictions)
    {
        for (int i = 0; i < _pending.Count; i++)
        {
            var (input, shape, values) = _pending[i];
            if (shape is null || values is null) WriteObject(Shape(input.Copy(), predictions[i]));
            else
            {
                SetPredictionCells(predictions, i, values, shape.PredictionSlots);
                WriteObject(new PredictedRow(shape.OutputNames, values));
            }
        }
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

    /// <summary>
    /// Writes sample <paramref name="sample"/>'s Prediction, and for classes Probability and Probabilities (one
    /// property per class, in class order), the cells of <see cref="PredictionNames"/>, into <paramref name="values"/>
    /// at <paramref name="slots"/>.
    /// </summary>
    private void SetPredictionCells(PredictionBatch predictions, int sample, object?[] values, int[] slots)
    {
        values[slots[0]] = predictions.Value(sample);
        if (predictions.Probability(sample) is not { } probability) return;
        _classNames ??= [.. _predictor.Target!.Classes];
        values[slots[1]] = probability;
        var probabilities = predictions.Values(sample);
        values[slots[2]] = new ClassProbabilities(_classNames, probabilities.Length > ClassesSharingTheBatch ? probabilities.ToArray() : probabilities);
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
        switch (item.Properties[name])
        {
            case PSNoteProperty existing: existing.Value = value; break;
            case null: item.Properties.Add(new PSNoteProperty(name, value)); break;
            default:
                item.Properties.Remove(name);
                item.Properties.Add(new PSNoteProperty(name, value));
                break;
        }
    }
}
