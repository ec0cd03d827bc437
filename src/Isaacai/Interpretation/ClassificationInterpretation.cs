using Isaacai.Data;
using Isaacai.Models;
using Isaacai.Data.Images;
using static TorchSharp.torch;

namespace Isaacai.Interpretation;

/// <summary>
/// What a classifier gets right and wrong on the valid split, as fastai's <c>ClassificationInterpretation</c>:
/// one pass over the split in eval mode without gradients keeps, per sample, the actual and predicted class,
/// the cross-entropy loss, and the probabilities given to the actual class and to the predicted one. From them
/// come the confusion matrix, the most confused pairs and the top losses. Any classifier (tables, image
/// tensors, image files); a regression, or data without a target, is refused with <see cref="NotAClassifierException"/>.
/// </summary>
public sealed class ClassificationInterpretation
{
    private readonly int[] _actual, _predicted;
    private readonly double[] _losses, _actualProbabilities, _predictedProbabilities;

    private ClassificationInterpretation(IDataset dataset, IReadOnlyList<string> classes, bool inputsAreTableRows,
                                         int[] actual, int[] predicted, double[] losses, double[] actualProbabilities, double[] predictedProbabilities)
    {
        (Dataset, Classes, InputsAreTableRows) = (dataset, classes, inputsAreTableRows);
        (_actual, _predicted, _losses, _actualProbabilities, _predictedProbabilities) = (actual, predicted, losses, actualProbabilities, predictedProbabilities);
    }

    /// <summary>A trainer's model on its valid split (<c>Dls.Valid</c>), with its data's classes; not while another thread's fit holds the trainer.</summary>
    public static ClassificationInterpretation FromTrainer(Trainer trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        trainer.Dls.ThrowIfDisposed();
        using (trainer.ClaimOrJoin()) // it switches the model to eval mode: not under another runspace's fit
            return FromModel(trainer.Model, trainer.Dls.Valid, trainer.Dls.Target, inputsAreTableRows: trainer.Dls.Processor is not null);
    }

    /// <summary>
    /// <paramref name="model"/> on every sample of <paramref name="loader"/>'s dataset, in the dataset's order
    /// (whatever the loader's shuffling) and in its batch size, without augmentation. <paramref name="inputsAreTableRows"/> says the
    /// inputs are a table's encoded rows, which have no picture to show in a top-losses grid.
    /// The model's train/eval mode, module by module, is as it was afterwards.
    /// </summary>
    public static ClassificationInterpretation FromModel(nn.Module<Tensor, Tensor> model, DataLoader loader, TargetSpec? target, bool inputsAreTableRows = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        var classes = ClassesOf(target);
        var dataset = loader.Dataset;
        dataset.ThrowIfDisposed();
        int n = checked((int)dataset.Count), k = classes.Count;
        var (actual, predicted) = (new int[n], new int[n]);
        var (losses, actualProbabilities, predictedProbabilities) = (new double[n], new double[n], new double[n]);
        var device = model.parameters().FirstOrDefault()?.device ?? CPU;
        using (ModuleModes.Eval(model))
        {
            using var noGrad = no_grad();
            // Samples as a valid pass sees them: a train split's augmentation left out (and with it the draw from torch's generator).
            var unaugmented = dataset is ImageDataset images ? images.WithoutAugmentation() : dataset;
            using var batches = unaugmented.OpenEpoch(null, loader.BatchSize);
            int at = 0;
            for (int b = 0; b < batches.Count; b++)
            {
                using var scope = NewDisposeScope(); // the batch, the outputs and every tensor made from them
                var batch = batches.Get(b);
                long size = batch.Size;
                if (at + size > n) throw new InvalidOperationException($"The dataset gave more than its {n} samples.");
                var outputs = model.call(batch.X.to(device));
                if (outputs.dim() == 0 || outputs.shape[0] != size || outputs.numel() != size * k)
                    throw new InvalidOperationException($"The model gives outputs of shape [{string.Join(", ", outputs.shape)}] for {size} samples; a classifier of the {k} classes of '{target!.Name}' gives [{size}, {k}].");
                if (batch.Y.is_floating_point() || batch.Y.is_complex() || batch.Y.numel() != size)
                    throw new InvalidOperationException($"The targets are {batch.Y.dtype} of shape [{string.Join(", ", batch.Y.shape)}]; a classifier's targets are one class index per sample.");
                // In float64, so that small probabilities and their logs are not rounded to 0 and −∞.
                var logProbabilities = outputs.reshape(size, k).to_type(ScalarType.Float64).log_softmax(1).cpu().data<double>().ToArray();
                var labels = batch.Y.reshape(size).to_type(ScalarType.Int64).cpu().data<long>().ToArray();
                for (int i = 0; i < size; i++, at++)
                {
                    long label = labels[i];
                    if (label < 0 || label >= k)
                        throw new InvalidOperationException($"Sample {at} of the valid split has class index {label}; '{target!.Name}' has {k} classes, 0 to {k - 1}.");
                    var row = logProbabilities.AsSpan(i * k, k);
                    int best = 0;
                    for (int c = 1; c < k; c++) if (row[c] > row[best]) best = c; // the first of equals, as argmax and Predictor do
                    actual[at] = (int)label;
                    predicted[at] = best;
                    losses[at] = -row[(int)label];
                    actualProbabilities[at] = Math.Exp(row[(int)label]);
                    predictedProbabilities[at] = Math.Exp(row[best]);
                }
            }
            if (at != n) throw new InvalidOperationException($"The dataset gave {at} of its {n} samples.");
        }
        return new ClassificationInterpretation(dataset, classes, inputsAreTableRows, actual, predicted, losses, actualProbabilities, predictedProbabilities);
    }

    private static IReadOnlyList<string> ClassesOf(TargetSpec? target) => target switch
    {
        null => throw new NotAClassifierException(
            "A confusion matrix and top losses need a classifier's data, and this data does not say what its targets are (it has no target): "
            + "make it with Get-IsaacDataset, ConvertTo-IsaacDataset or Import-IsaacImageDataset, or in C# give the dataset a TargetSpec.Classification."),
        { Task: TaskKind.Regression } => throw new NotAClassifierException(
            $"A confusion matrix and top losses are for classifiers, and the target '{target.Name}' is a number (a regression): there are no classes to confuse."),
        _ => target.Classes,
    };

    /// <summary>Every module's train/eval flag, parents before children (a module's train() sets its children too).</summary>
    /// <summary>The valid split that was interpreted; top losses index into it.</summary>
    public IDataset Dataset { get; }

    /// <summary>Class names by index.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Whether the inputs are a table's encoded rows (no picture to show).</summary>
    public bool InputsAreTableRows { get; }

    /// <summary>How many samples were interpreted: the valid split's count.</summary>
    public int Count => _actual.Length;

    /// <summary>Per sample, in the split's order: the actual class index.</summary>
    public IReadOnlyList<int> Actual => _actual;

    /// <summary>Per sample: the predicted class index (the most probable class; the first of equals).</summary>
    public IReadOnlyList<int> Predicted => _predicted;

    /// <summary>Per sample: the cross-entropy loss, −log p(actual).</summary>
    public IReadOnlyList<double> Losses => _losses;

    /// <summary>Per sample: the probability the model gave the actual class.</summary>
    public IReadOnlyList<double> ActualProbabilities => _actualProbabilities;

    /// <summary>Per sample: the probability the model gave the predicted class (its highest).</summary>
    public IReadOnlyList<double> PredictedProbabilities => _predictedProbabilities;

    /// <summary>Counts of actual (rows) by predicted (columns) class.</summary>
    public ConfusionMatrix ConfusionMatrix()
    {
        var counts = new long[Classes.Count, Classes.Count];
        for (int i = 0; i < Count; i++) counts[_actual[i], _predicted[i]]++;
        return new ConfusionMatrix(Classes, counts);
    }

    /// <summary>The confusion matrix as (actual, predicted, count) rows: all K×K, or with <paramref name="nonZeroOnly"/> those that counted a sample.</summary>
    public IReadOnlyList<ConfusionRow> ConfusionRows(bool nonZeroOnly = false) => ConfusionMatrix().Rows(nonZeroOnly);

    /// <summary>fastai's <c>most_confused</c>: the wrong pairs counted at least <paramref name="minCount"/> times, most frequent first.</summary>
    public IReadOnlyList<ConfusionRow> MostConfused(long minCount = 1) => ConfusionMatrix().MostConfused(minCount);

    /// <summary>
    /// The <paramref name="count"/> samples with the highest loss (all of them if the split has fewer), worst
    /// first; a NaN loss counts as the worst, and equal losses go in the split's order.
    /// </summary>
    public IReadOnlyList<TopLoss> TopLosses(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var paths = (Dataset as ImageDataset)?.Paths;
        return Enumerable.Range(0, Count)
            .OrderByDescending(i => double.IsNaN(_losses[i]) ? double.PositiveInfinity : _losses[i]).ThenBy(i => i)
            .Take(count)
            .Select(i => new TopLoss(i, paths?[i], Classes[_actual[i]], Classes[_predicted[i]], _losses[i], _actualProbabilities[i], _predictedProbabilities[i]))
            .ToList();
    }

    public override string ToString()
    {
        int right = Enumerable.Range(0, Count).Count(i => _actual[i] == _predicted[i]);
        return $"ClassificationInterpretation({Count} samples, {Classes.Count} classes, {right} predicted right)";
    }
}

/// <summary>
/// A confusion matrix or top losses asked of data that is not a classifier's: a regression target, or no target at all.
/// </summary>
public sealed class NotAClassifierException(string message) : InvalidOperationException(message);

/// <summary>
/// One sample of the valid split and how the model fared on it: its index in the split, its file where the
/// dataset is one of image files (null otherwise), its actual and predicted class, its cross-entropy loss, and
/// the probabilities the model gave the actual class (which fastai leaves out: its issue #3591) and the predicted one.
/// </summary>
public sealed record TopLoss(long Index, string? Path, string Actual, string Predicted, double Loss, double ActualProbability, double PredictedProbability);
