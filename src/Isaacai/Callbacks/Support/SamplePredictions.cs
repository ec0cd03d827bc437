using Isaacai.Data;
using Isaacai.Interpretation;
using Isaacai.Plots;
using static TorchSharp.torch;

namespace Isaacai.Callbacks;

/// <summary>
/// The first samples of a trainer's valid split, as a grid of their images under the predicted and actual
/// classes and the probability of the predicted one, for a TensorBoard image: the same samples every epoch, so
/// the grid shows what the model learns about them.
/// </summary>
internal static class SamplePredictions
{
    public const string Tag = "predictions";
    private const int CellSize = 128, TitleBand = 40;

    /// <summary>Before the first epoch: a classifier of pictures, or one clear error.</summary>
    public static void Check(Trainer trainer)
    {
        if (trainer.Dls.Target is not { Task: TaskKind.Classification })
            throw new NotSupportedException("TensorBoardCB's Predictions show classes under images: this trainer's data " +
                (trainer.Dls.Target is null ? "does not say what its targets are" : "is a regression") + "; leave Predictions out.");
        try { InterpretationPlots.ThrowIfNoPictures(trainer.Dls.Valid.Dataset, trainer.Dls.Processor is not null); }
        catch (NotSupportedException e) { throw new NotSupportedException($"TensorBoardCB's Predictions need images: {e.Message} Leave Predictions out.", e); }
    }

    /// <summary>
    /// The grid as an image tensor [H, W, 3] of bytes, outside any dispose scope (the caller frees it), or null for
    /// an empty valid split: the model,
    /// in eval mode and without gradients (its modes put back after), on the first <paramref name="count"/> valid samples.
    /// </summary>
    public static Tensor? Draw(Trainer trainer, int count)
    {
        var valid = trainer.Dls.Valid.Dataset;
        long n = Math.Min(count, valid.Count);
        if (n == 0) return null;
        using var scope = NewDisposeScope();
        using var samples = valid.Select(arange(n));
        var interpretation = ClassificationInterpretation.FromModel(trainer.Model, new DataLoader(samples, (int)n, shuffle: false), trainer.Dls.Target);
        int columns = (int)Math.Ceiling(Math.Sqrt(n)), rows = (int)((n + columns - 1) / columns);
        int width = columns * CellSize, height = rows * CellSize + TitleBand;
        using var grid = InterpretationPlots.DrawPredictions(interpretation, $"Epoch {trainer.Epoch}: predicted / actual, probability", width, height);
        // RGBA rows, opaque: the colour channels, copied out of the bitmap's memory.
        return tensor(grid.Bytes, [height, width, 4]).narrow(2, 0, 3).contiguous().DetachFromDisposeScope();
    }
}
