using Isaacai.Data;
using Isaacai.Interpretation;
using Isaacai.Plots;
using SummaryWriter = TorchSharp.Modules.SummaryWriter;
using static TorchSharp.torch;

namespace Isaacai.Callbacks;

/// <summary>
/// The first samples of a trainer's valid split, as a grid of their images under the predicted and actual
/// classes and the probability of the predicted one, written as a TensorBoard image: the same samples every
/// epoch, so the grid shows what the model learns about them.
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

    /// <summary>The model, in eval mode and without gradients (its modes put back after), on the first <paramref name="count"/> valid samples.</summary>
    public static void Write(Trainer trainer, SummaryWriter writer, int count, int step)
    {
        var valid = trainer.Dls.Valid.Dataset;
        long n = Math.Min(count, valid.Count);
        if (n == 0) return;
        using var scope = NewDisposeScope();
        using var samples = valid.Select(arange(n));
        var interpretation = ClassificationInterpretation.FromModel(trainer.Model, new DataLoader(samples, (int)n, shuffle: false), trainer.Dls.Target);
        int columns = (int)Math.Ceiling(Math.Sqrt(n)), rows = (int)((n + columns - 1) / columns);
        int width = columns * CellSize, height = rows * CellSize + TitleBand;
        using var grid = InterpretationPlots.DrawPredictions(interpretation, $"Epoch {trainer.Epoch}: predicted / actual, probability", width, height);
        var pixels = tensor(grid.Bytes, [height, width, 4]).narrow(2, 0, 3); // RGBA rows, opaque: the colour channels
        writer.add_img(Tag, pixels, step, dataformats: "HWC");
    }
}
