using System.Diagnostics;
using System.Globalization;
using Isaacai.Data;
using Isaacai.Data.Images;
using Isaacai.Interpretation;
using ScottPlot;
using SkiaSharp;
using static TorchSharp.torch;

namespace Isaacai.Plots;

/// <summary>
/// PNG pictures of a <see cref="ClassificationInterpretation"/>: the confusion matrix as a heatmap with its
/// counts, and the top losses as a grid of the samples' images under their captions. Written atomically, as
/// <see cref="TrainingPlots"/> writes its plots.
/// </summary>
public static class InterpretationPlots
{
    public const int DefaultTopLossCount = 9, MaxTopLossCount = 100;

    /// <summary>
    /// The confusion matrix as a heatmap in blues, the count written in each cell, actual classes down the left
    /// (the first at the top) and predicted classes along the bottom, so the right predictions run down the diagonal.
    /// </summary>
    public static void SaveConfusionMatrix(ConfusionMatrix matrix, string path, int width = TrainingPlots.DefaultWidth, int height = TrainingPlots.DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        TrainingPlots.CheckTarget(path, width, height);
        int k = matrix.Classes.Count;
        using var plot = TrainingPlots.NewPlot($"Confusion matrix ({matrix.Total} samples)", "predicted", "actual", legend: false);
        plot.HideGrid();
        var counts = new double[k, k];
        long most = 0;
        for (int a = 0; a < k; a++)
            for (int p = 0; p < k; p++)
            {
                counts[a, p] = matrix[a, p];
                most = Math.Max(most, matrix[a, p]);
            }
        var heatmap = plot.Add.Heatmap(counts); // row 0 at the top
        heatmap.Colormap = new ScottPlot.Colormaps.Reversed(new ScottPlot.Colormaps.Blues()); // ScottPlot's Blues runs dark to light
        heatmap.ManualRange = new ScottPlot.Range(0, Math.Max(1, most)); // an empty cell is white, whatever the counts
        heatmap.Position = new CoordinateRect(0, k - 1, 0, k - 1); // cell centres on whole numbers: predicted p at x = p, actual a at y = k − 1 − a

        // Cell text sized to the cells, as the plot's area will roughly be (the axes take about 150 px).
        float cell = Math.Max(1, Math.Min(width - 150, height - 150)) / (float)k;
        float countSize = Math.Clamp(cell * 0.32f, 6, 18);
        for (int a = 0; a < k; a++)
            for (int p = 0; p < k; p++)
            {
                var text = plot.Add.Text(matrix[a, p].ToString(CultureInfo.InvariantCulture), p, k - 1 - a);
                text.Alignment = Alignment.MiddleCenter;
                text.LabelFontSize = countSize;
                // White on the dark half of the scale, black on the light half, as scikit-learn and fastai do.
                text.LabelFontColor = matrix[a, p] > most / 2.0 ? Colors.White : Colors.Black;
                if (TrainingPlots.SansFont.Value is { } font) text.LabelFontName = font;
            }

        var positions = Enumerable.Range(0, k).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, matrix.Classes.ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions.Select(y => k - 1 - y).ToArray(), matrix.Classes.ToArray());
        float tickSize = Math.Clamp(cell * 0.3f, 7, 13);
        plot.Axes.Bottom.TickLabelStyle.FontSize = tickSize;
        plot.Axes.Left.TickLabelStyle.FontSize = tickSize;
        float widest = matrix.Classes.Max(name => TextWidth(name, tickSize));
        if (widest > cell * 0.95f)
        {
            // Names wider than their column slant down and to the left of their tick, and the axis makes room for them.
            plot.Axes.Bottom.TickLabelStyle.Rotation = -45;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.UpperRight;
            plot.Axes.Bottom.MinimumSize = widest * 0.72f + 2 * tickSize + 20;
        }
        plot.Axes.SetLimits(-0.5, k - 0.5, -0.5, k - 0.5);
        TrainingPlots.Save(plot, path, width, height);
    }

    /// <summary>
    /// The <paramref name="count"/> samples of highest loss (<see cref="ClassificationInterpretation.TopLosses"/>)
    /// as a grid of their images, worst first, each under "predicted / actual" and "loss / probability of actual".
    /// Image files are shown as the model saw them (un-normalized with the pipeline's means and stds); tensor
    /// images ([N, C, H, W], [N, H, W], or [N, H·W] of a square) are stretched from each sample's own lowest to
    /// highest value. A table's rows are no pictures: <see cref="NotSupportedException"/>.
    /// </summary>
    public static void SaveTopLosses(ClassificationInterpretation interpretation, string path, int count = DefaultTopLossCount,
                                     int width = TrainingPlots.DefaultWidth, int height = TrainingPlots.DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(interpretation);
        TrainingPlots.CheckTarget(path, width, height);
        CheckTopLossCount(count);
        var losses = interpretation.TopLosses(count);
        if (losses.Count == 0) throw new InvalidOperationException("Nothing to plot: the valid split has no samples.");
        var captions = losses.Select(l => ($"{l.Predicted} / {l.Actual}", $"{Number(l.Loss)} / {Number(l.ActualProbability)}")).ToList();
        using var grid = DrawGrid(GridTitle, captions, interpretation, losses.Select(l => l.Index).ToArray(), width, height);
        using var png = grid.Encode(SKEncodedImageFormat.Png, 100);
        TrainingPlots.WritePng(path, png.ToArray());
    }

    /// <summary>
    /// Every sample of <paramref name="interpretation"/>, in the dataset's order, under "predicted / actual" and
    /// the probability given to the predicted class, as an opaque RGBA bitmap. <see cref="ThrowIfNoPictures"/>
    /// says beforehand whether a dataset's samples can be drawn.
    /// </summary>
    public static SKBitmap DrawPredictions(ClassificationInterpretation interpretation, string title, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(interpretation);
        if (interpretation.Count == 0) throw new InvalidOperationException("Nothing to draw: the split has no samples.");
        var captions = Enumerable.Range(0, interpretation.Count).Select(i => (
            $"{interpretation.Classes[interpretation.Predicted[i]]} / {interpretation.Classes[interpretation.Actual[i]]}",
            Number(interpretation.PredictedProbabilities[i]))).ToList();
        return DrawGrid(title, captions, interpretation, Enumerable.Range(0, interpretation.Count).Select(i => (long)i).ToArray(), width, height);
    }

    internal static void CheckTopLossCount(int count)
    {
        if (count is < 1 or > MaxTopLossCount)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"A top-losses grid shows 1 to {MaxTopLossCount} images.");
    }

    private const string GridTitle = "Top losses: predicted / actual, loss / probability of actual";

    /// <summary>The samples at <paramref name="indices"/> under their two-line captions, in a grid as square as the count allows, under the grid's title.</summary>
    private static SKBitmap DrawGrid(string title, IReadOnlyList<(string First, string Second)> captions, ClassificationInterpretation interpretation,
                                     IReadOnlyList<long> indices, int width, int height)
    {
        var pictures = Pictures(interpretation, indices);
        var grid = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        try
        {
            using var canvas = new SKCanvas(grid);
            DrawGrid(canvas, title, captions, pictures, width, height);
            return grid;
        }
        catch
        {
            grid.Dispose();
            throw;
        }
        finally
        {
            foreach (var picture in pictures) picture.Dispose();
        }
    }

    private static void DrawGrid(SKCanvas canvas, string title, IReadOnlyList<(string First, string Second)> captions, IReadOnlyList<SKBitmap> pictures, int width, int height)
    {
        canvas.Clear(SKColors.White);
        using var typeface = Typeface();
        using var ink = new SKPaint { Color = new SKColor(0x22, 0x22, 0x22), IsAntialias = true };

        float titleSize = Math.Clamp(height / 30f, 9, 20), titleBand = titleSize * 2;
        using (var titleFont = new SKFont(typeface, titleSize) { Embolden = true })
            canvas.DrawText(Fitted(title, titleFont, width - 8), width / 2f, titleSize * 1.4f, SKTextAlign.Center, titleFont, ink);

        int columns = (int)Math.Ceiling(Math.Sqrt(captions.Count)), rows = (captions.Count + columns - 1) / columns;
        float cellWidth = width / (float)columns, cellHeight = (height - titleBand) / rows;
        float captionSize = Math.Clamp(Math.Min(cellWidth / 13f, cellHeight / 9f), 6, 16), line = captionSize * 1.25f, pad = captionSize * 0.4f;
        using var captionFont = new SKFont(typeface, captionSize);
        for (int i = 0; i < captions.Count; i++)
        {
            float left = i % columns * cellWidth, top = titleBand + i / columns * cellHeight;
            float x = left + cellWidth / 2, textWidth = cellWidth - 2 * pad;
            canvas.DrawText(Fitted(captions[i].First, captionFont, textWidth), x, top + line, SKTextAlign.Center, captionFont, ink);
            canvas.DrawText(Fitted(captions[i].Second, captionFont, textWidth), x, top + 2 * line, SKTextAlign.Center, captionFont, ink);
            // The image as large as fits below its caption, keeping its aspect ratio; small images stay sharp-edged pixels.
            float boxTop = top + 2 * line + pad, boxWidth = cellWidth - 2 * pad, boxHeight = cellHeight - 2 * line - 2 * pad;
            if (boxWidth < 1 || boxHeight < 1) continue;
            var picture = pictures[i];
            float scale = Math.Min(boxWidth / picture.Width, boxHeight / picture.Height);
            float drawnWidth = picture.Width * scale, drawnHeight = picture.Height * scale;
            var rect = SKRect.Create(left + (cellWidth - drawnWidth) / 2, boxTop + (boxHeight - drawnHeight) / 2, drawnWidth, drawnHeight);
            var sampling = scale >= 1 ? new SKSamplingOptions(SKFilterMode.Nearest) : new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear);
            using var image = SKImage.FromBitmap(picture);
            canvas.DrawImage(image, rect, sampling);
        }
    }

    /// <summary>Two decimals, or two significant digits below 0.005, so that a tiny probability does not read as 0.</summary>
    private static string Number(double value) =>
        value.ToString(value is > 0 and < 0.005 ? "0.0e0" : "0.00", CultureInfo.InvariantCulture);

    private static SKTypeface Typeface() =>
        (TrainingPlots.SansFont.Value is { } family ? SKTypeface.FromFamilyName(family) : null) ?? SKTypeface.Default;

    private static float TextWidth(string text, float size)
    {
        using var typeface = Typeface();
        using var font = new SKFont(typeface, size);
        return font.MeasureText(text);
    }

    /// <summary><paramref name="text"/>, cut short with an ellipsis if it is wider than <paramref name="width"/>.</summary>
    private static string Fitted(string text, SKFont font, float width)
    {
        if (font.MeasureText(text) <= width) return text;
        for (int length = text.Length - 1; length > 0; length--)
        {
            var shorter = text[..length].TrimEnd() + "…";
            if (font.MeasureText(shorter) <= width) return shorter;
        }
        return "…";
    }

    /// <summary>The samples at <paramref name="indices"/> of the interpreted split as 8-bit pictures, or why there are none.</summary>
    private static SKBitmap[] Pictures(ClassificationInterpretation interpretation, IReadOnlyList<long> indices)
    {
        var dataset = interpretation.Dataset;
        ThrowIfNoPictures(dataset, interpretation.InputsAreTableRows);
        using var scope = NewDisposeScope();
        Tensor unitRange; // [n, C, H, W], values in [0, 1]
        switch (dataset)
        {
            case ImageDataset images:
                var pipeline = images.Pipeline;
                var inputs = images.LoadInputs(indices);
                using (var std = tensor(pipeline.Std.Select(s => (float)s).ToArray()).reshape(1, -1, 1, 1))
                using (var mean = tensor(pipeline.Mean.Select(m => (float)m).ToArray()).reshape(1, -1, 1, 1))
                    unitRange = inputs.mul(std).add_(mean).clamp_(0, 1);
                break;
            case TensorDataset tensors:
                using (var chosen = tensor(indices.ToArray()))
                    unitRange = StretchedPerSample(AsImages(tensors.X.index_select(0, chosen)));
                break;
            default:
                throw new UnreachableException($"{dataset.GetType().Name} passed {nameof(ThrowIfNoPictures)}.");
        }
        return ToBitmaps(unitRange);
    }

    /// <summary>Whether the samples of <paramref name="dataset"/> can be drawn: image files, or tensors shaped as images.</summary>
    public static void ThrowIfNoPictures(IDataset dataset, bool inputsAreTableRows)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (inputsAreTableRows)
            throw new NotSupportedException("The inputs are a table's rows, not images, so there are no pictures of the samples to draw: list them with their values instead (Get-IsaacTopLoss).");
        dataset.ThrowIfDisposed();
        if (dataset is TensorDataset) ImageShape(dataset.InputShape);
        else if (dataset is not ImageDataset)
            throw new NotSupportedException($"Pictures of samples come from image files or image tensors; this dataset is a {dataset.GetType().Name}.");
    }

    /// <summary>Tensor samples as images [n, C, H, W]: from [n, C, H, W] with 1 or 3 channels, [n, H, W], or [n, H·W] of a square.</summary>
    private static Tensor AsImages(Tensor samples) => samples.reshape([samples.shape[0], .. ImageShape(samples.shape[1..])]);

    /// <summary>One sample's shape as an image's [C, H, W], or why it is none.</summary>
    private static long[] ImageShape(long[] sample)
    {
        switch (sample.Length)
        {
            case 3 when sample[0] is 1 or 3: return sample;
            case 2: return [1, .. sample];
            case 1:
                long side = (long)Math.Round(Math.Sqrt(sample[0]));
                if (side * side == sample[0]) return [1, side, side];
                break;
        }
        throw new NotSupportedException($"The samples are [{string.Join(", ", sample)}], which is not an image: images are [C, H, W] with 1 or 3 channels, [H, W], or H·W values of a square.");
    }

    /// <summary>Each sample scaled from its own lowest value (black) to its highest (white): tensors do not say how they were normalized.</summary>
    private static Tensor StretchedPerSample(Tensor images)
    {
        var flat = images.to_type(ScalarType.Float32).flatten(1);
        var lowest = flat.amin([1], keepdim: true);
        var span = flat.amax([1], keepdim: true).sub(lowest).clamp_min_(1e-12);
        return flat.sub(lowest).div_(span).reshape(images.shape);
    }

    /// <summary>Images [n, C, H, W] in [0, 1] as opaque 8-bit RGBA bitmaps (one channel: grey).</summary>
    private static SKBitmap[] ToBitmaps(Tensor unitRange)
    {
        var (n, channels, height, width) = ((int)unitRange.shape[0], (int)unitRange.shape[1], (int)unitRange.shape[2], (int)unitRange.shape[3]);
        var bytes = unitRange.mul(255).round_().to_type(ScalarType.Byte).permute(0, 2, 3, 1).contiguous().data<byte>().ToArray(); // [n, H, W, C]
        var bitmaps = new SKBitmap[n];
        int plane = height * width * channels;
        for (int s = 0; s < n; s++)
        {
            var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
            var pixels = bitmap.GetPixelSpan();
            for (int p = 0; p < height * width; p++)
            {
                int from = s * plane + p * channels;
                byte r = bytes[from], g = channels == 3 ? bytes[from + 1] : r, b = channels == 3 ? bytes[from + 2] : r;
                (pixels[4 * p], pixels[4 * p + 1], pixels[4 * p + 2], pixels[4 * p + 3]) = (r, g, b, 255);
            }
            bitmaps[s] = bitmap;
        }
        return bitmaps;
    }
}
