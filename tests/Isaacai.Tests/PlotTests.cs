using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Metrics;
using Isaacai.Plots;
using SkiaSharp;
using static TorchSharp.torch;

namespace Isaacai.Tests;

public sealed class PlotTests() : TempFolderTests("isaacai-plots-")
{
    // The colours TrainingPlots draws with (Category10), and the dark grey of ScottPlot's text.
    private static readonly SKColor Blue = SKColor.Parse("#1f77b4"), Orange = SKColor.Parse("#ff7f0e"),
        Green = SKColor.Parse("#2ca02c"), Red = SKColor.Parse("#d62728"), DarkBlue = SKColor.Parse("#0b3d66");

    /// <summary>A 3-epoch fit on 60 synthetic samples in batches of 8: 8 train batches per epoch, a valid loss each epoch.</summary>
    private static (Trainer Trainer, TrackingCB Tracking, MetricsCB Metrics) Fitted(int epochs = 3)
    {
        var tracking = new TrackingCB();
        var metrics = new MetricsCB(("Accuracy", new MulticlassAccuracy()));
        manual_seed(1);
        var data = TestData.Synthetic(train: 60, valid: 20);
        data.Target = TargetSpec.Classification("class", ["a", "b", "c"]); // so that every kind draws, the interpretations too
        var trainer = new Trainer(DataLoaders.FromDatasetDict(data, 8), nn.CrossEntropyLoss(),
            Optimizers.SGD, nn.Linear(4, 3), [new BasicTrainCB(), metrics, tracking], lr: 0.1);
        trainer.Fit(epochs);
        return (trainer, tracking, metrics);
    }

    internal static SKBitmap Decode(string path) => SKBitmap.Decode(path) ?? throw new InvalidDataException($"{path} is not an image SkiaSharp can decode.");

    /// <summary>Pixels within a small distance of <paramref name="color"/>, so anti-aliased edges of a line still count.</summary>
    internal static int PixelsNear(SKBitmap image, SKColor color, int tolerance = 24)
    {
        int count = 0;
        foreach (var pixel in image.Pixels)
            if (Math.Abs(pixel.Red - color.Red) <= tolerance && Math.Abs(pixel.Green - color.Green) <= tolerance && Math.Abs(pixel.Blue - color.Blue) <= tolerance)
                count++;
        return count;
    }

    /// <summary>Near-black pixels: the title, axis labels, tick labels and legend text.</summary>
    private static int TextPixels(SKBitmap image) => image.Pixels.Count(p => p.Red + p.Green + p.Blue < 200);

    [Fact]
    public void The_loss_plot_is_a_png_of_the_asked_size_with_train_and_valid_curves_and_text()
    {
        var (_, tracking, _) = Fitted();
        var path = PathOf("loss.png");
        TrainingPlots.SaveLoss(tracking, path, 640, 400);

        using var image = Decode(path);
        Assert.Equal((640, 400), (image.Width, image.Height));
        Assert.Equal("PNG", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(path), 1, 3));
        Assert.True(PixelsNear(image, Blue) > 100, $"train loss line: {PixelsNear(image, Blue)} blue pixels");
        Assert.True(PixelsNear(image, DarkBlue) > 200, $"smoothed line: {PixelsNear(image, DarkBlue)} dark blue pixels");
        Assert.True(PixelsNear(image, Orange) > 100, $"valid loss line: {PixelsNear(image, Orange)} orange pixels");
        Assert.True(TextPixels(image) > 500, $"text: {TextPixels(image)} dark pixels");
        Assert.True(image.Pixels.Distinct().Count() > 50, "an image of a few flat colours is not a plot");
    }

    [Fact]
    public void Tracking_records_where_each_epoch_ended_in_train_batches()
    {
        var (_, tracking, _) = Fitted();
        Assert.Equal([8, 16, 24], tracking.EpochEnds);
        Assert.Equal(24, tracking.TrainLosses.Count);
        Assert.Equal(3, tracking.Epochs.Count(e => e.ValidLoss is not null));
    }

    [Fact]
    public void The_metrics_plot_draws_each_metric_and_both_losses_per_epoch()
    {
        var (_, _, metrics) = Fitted();
        var path = PathOf("metrics.png");
        TrainingPlots.SaveMetrics(metrics.Records, path);

        using var image = Decode(path);
        Assert.Equal((TrainingPlots.DefaultWidth, TrainingPlots.DefaultHeight), (image.Width, image.Height));
        Assert.True(PixelsNear(image, Green) > 200, $"accuracy line: {PixelsNear(image, Green)} green pixels");
        Assert.True(PixelsNear(image, Blue) > 200, $"train loss line: {PixelsNear(image, Blue)} blue pixels");
        Assert.True(PixelsNear(image, Orange) > 200, $"valid loss line: {PixelsNear(image, Orange)} orange pixels");
        Assert.True(TextPixels(image) > 500);
    }

    [Fact]
    public void The_metrics_plot_starts_both_axes_at_zero_so_an_Rmse_does_not_sit_exactly_on_its_loss()
    {
        // Two epochs of a regression: autoscaled, each axis would put both curves from corner to corner, on the same pixels.
        var records = new[]
        {
            new EpochRecord([new("Rmse", 620.0), new("Mae", 480.0)], 0.9, 0.55, 0, TimeSpan.FromSeconds(1)),
            new EpochRecord([new("Rmse", 410.0), new("Mae", 300.0)], 0.3, 0.24, 1, TimeSpan.FromSeconds(1)),
        };
        using var plot = TrainingPlots.MetricsPlot(records);
        Assert.Equal(0, plot.Axes.Left.Min);
        Assert.InRange(plot.Axes.Left.Max, 620, 700);
        Assert.Equal(0, plot.Axes.Right.Min);
        Assert.InRange(plot.Axes.Right.Max, 0.9, 1.0);
        // Where the last Rmse and valid loss are drawn, as a share of their axis's height: no longer the same.
        double rmse = 410 / plot.Axes.Left.Max, valid = 0.24 / plot.Axes.Right.Max;
        Assert.True(Math.Abs(rmse - valid) > 0.2, $"Rmse at {rmse:P0} of its axis, valid loss at {valid:P0}");
    }

    [Fact]
    public void The_lr_finder_plot_says_it_draws_the_smoothed_loss()
    {
        var lrs = new[] { 1e-5, 1e-4, 1e-3, 1e-2 };
        using var plot = TrainingPlots.LearningRateFinderPlot(lrs, [2.0, 1.9, 1.2, 3.0], 1e-3);
        var legend = plot.GetPlottables().SelectMany(p => p.LegendItems).Select(i => i.LabelText).Where(t => !string.IsNullOrEmpty(t)).ToList();
        Assert.Equal(["smoothed loss", "suggested 1e-3"], legend);
        Assert.Equal("smoothed loss", plot.Axes.Left.Label.Text);
    }

    [Fact]
    public void The_learning_rate_plot_draws_one_point_per_train_batch()
    {
        var (_, tracking, _) = Fitted();
        Assert.Equal(tracking.TrainLosses.Count, tracking.Lrs.Count);
        Assert.All(tracking.Lrs, lr => Assert.Equal(0.1, lr, 1e-9));
        var path = PathOf("lr.png");
        TrainingPlots.SaveLearningRate(tracking, path, 500, 300);

        using var image = Decode(path);
        Assert.Equal((500, 300), (image.Width, image.Height));
        Assert.True(PixelsNear(image, Blue) > 300, $"learning-rate line: {PixelsNear(image, Blue)} blue pixels");
    }

    [Fact]
    public void The_lr_finder_plot_marks_the_suggestion_in_red()
    {
        var lrs = Enumerable.Range(0, 50).Select(i => 1e-6 * Math.Pow(10, i / 49.0 * 6)).ToList();
        var losses = lrs.Select(lr => 2 - 1.5 / (1 + Math.Exp(-3 * (Math.Log10(lr) + 3.5))) + Math.Exp(3 * Math.Log10(lr))).ToList();
        var withMark = PathOf("finder.png");
        var withoutMark = PathOf("finder-plain.png");
        TrainingPlots.SaveLearningRateFinder(lrs, losses, 3e-3, withMark);
        TrainingPlots.SaveLearningRateFinder(lrs, losses, null, withoutMark);

        using var marked = Decode(withMark);
        using var plain = Decode(withoutMark);
        Assert.True(PixelsNear(marked, Blue) > 300);
        Assert.True(PixelsNear(marked, Red) > 150, $"suggestion line and dot: {PixelsNear(marked, Red)} red pixels");
        Assert.Equal(0, PixelsNear(plain, Red));
    }

    [Fact]
    public void A_trainer_is_plotted_from_its_own_callbacks()
    {
        var (trainer, _, _) = Fitted();
        foreach (var kind in Enum.GetValues<PlotKind>())
        {
            var path = PathOf($"{kind}.png");
            TrainingPlots.Save(trainer, kind, path, 300, 200);
            using var image = Decode(path);
            Assert.Equal((300, 200), (image.Width, image.Height));
        }
    }

    [Fact]
    public void Nothing_to_plot_is_one_clear_error_and_writes_no_file()
    {
        var path = PathOf("empty.png");
        var beforeFit = Assert.Throws<InvalidOperationException>(() => TrainingPlots.SaveLoss(new TrackingCB(), path));
        Assert.Contains("Nothing to plot", beforeFit.Message);
        Assert.Contains("fit", beforeFit.Message);
        Assert.Throws<InvalidOperationException>(() => TrainingPlots.SaveMetrics([], path));
        Assert.Throws<InvalidOperationException>(() => TrainingPlots.SaveLearningRateFinder([], [], null, path));

        var untracked = TestData.Trainer(4, new BasicTrainCB());
        untracked.Fit(1);
        var noTracking = Assert.Throws<InvalidOperationException>(() => TrainingPlots.Save(untracked, PlotKind.Loss, path));
        Assert.Contains("no TrackingCB", noTracking.Message);
        Assert.Contains("New-IsaacCallback Tracking", noTracking.Message);
        Assert.Empty(Files());
    }

    [Fact]
    public void Bad_arguments_are_refused_before_anything_is_written()
    {
        var (_, tracking, _) = Fitted(epochs: 1);
        var path = PathOf("loss.png");
        File.WriteAllText(path, "an older plot");
        var size = Assert.Throws<ArgumentOutOfRangeException>(() => TrainingPlots.SaveLoss(tracking, path, width: 50));
        Assert.Contains("100", size.Message);
        Assert.Throws<ArgumentException>(() => TrainingPlots.SaveLearningRateFinder([1e-3, 1e-2], [1.0], null, path));
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => TrainingPlots.SaveLearningRateFinder([0, 1e-2], [1.0, 2.0], null, path));
        Assert.Contains("Learning rate 0 is 0", zero.Message);
        Assert.Equal("an older plot", File.ReadAllText(path));
    }

    [Fact]
    public void Saving_replaces_an_existing_plot_and_leaves_no_temporary_file()
    {
        var (_, tracking, _) = Fitted(epochs: 1);
        var path = PathOf("loss.png");
        File.WriteAllText(path, "an older plot");
        TrainingPlots.SaveLoss(tracking, path);
        using (var image = Decode(path)) Assert.Equal(TrainingPlots.DefaultWidth, image.Width);
        Assert.Equal([path], Files());
    }

    [Fact]
    public void Non_finite_losses_are_left_out_rather_than_failing_the_plot()
    {
        double[] lrs = [1e-4, 1e-3, 1e-2, 1e-1];
        double[] losses = [2.0, 1.0, 0.5, double.NaN];
        var path = PathOf("diverged.png");
        TrainingPlots.SaveLearningRateFinder(lrs, losses, 1e-3, path);
        using var image = Decode(path);
        Assert.True(PixelsNear(image, Blue) > 300);
    }
}
