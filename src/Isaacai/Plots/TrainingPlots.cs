using System.Globalization;
using Isaacai.Callbacks;
using Isaacai.Interpretation;
using Isaacai.IO;
using ScottPlot;
using SkiaSharp;

namespace Isaacai.Plots;

/// <summary>
/// PNG plots of a fit, from what <see cref="TrackingCB"/> and <see cref="MetricsCB"/> recorded, and of a
/// learning-rate search. Each file is written atomically (temporary file, flushed, renamed), so a failure
/// leaves an existing plot as it was. Non-finite values (a diverged loss) are left out of the curves.
/// </summary>
public static class TrainingPlots
{
    public const int DefaultWidth = 800, DefaultHeight = 500, MinSize = 100, MaxSize = 10_000;

    // SkiaSharp's NoDependencies natives find fonts by scanning /usr/share/fonts, without fontconfig's
    // "sans-serif" alias: their default is the first family met (DejaVu Serif on Debian), so ask for a sans one.
    internal static readonly Lazy<string?> SansFont = new(() =>
    {
        var families = SKFontManager.Default.FontFamilies.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica" }.FirstOrDefault(families.Contains);
    });

    // Category10, so that train is blue and valid orange in every plot, as in matplotlib's defaults.
    private static readonly Color TrainColor = Color.FromHex("#1f77b4"), SmoothColor = Color.FromHex("#0b3d66"),
        ValidColor = Color.FromHex("#ff7f0e"), MarkColor = Color.FromHex("#d62728");

    /// <summary>
    /// Draws <paramref name="kind"/> from the records of <paramref name="trainer"/>'s callbacks: TrackingCB for
    /// the loss and learning rate, MetricsCB (or else TrackingCB) for the metrics. A trainer without the
    /// callback, or before a fit, is an <see cref="InvalidOperationException"/> that says what to add.
    /// The confusion matrix and the top losses (<paramref name="topLossCount"/> of them) come from a pass of
    /// the model over the valid split (<see cref="ClassificationInterpretation.FromTrainer"/>).
    /// </summary>
    public static void Save(Trainer trainer, PlotKind kind, string path, int width = DefaultWidth, int height = DefaultHeight,
                            int topLossCount = InterpretationPlots.DefaultTopLossCount)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        switch (kind)
        {
            case PlotKind.ConfusionMatrix:
                CheckTarget(path, width, height); // before the pass over the valid split
                InterpretationPlots.SaveConfusionMatrix(ClassificationInterpretation.FromTrainer(trainer).ConfusionMatrix(), path, width, height);
                break;
            case PlotKind.TopLosses:
                CheckTarget(path, width, height);
                InterpretationPlots.CheckTopLossCount(topLossCount);
                InterpretationPlots.SaveTopLosses(ClassificationInterpretation.FromTrainer(trainer), path, topLossCount, width, height);
                break;
            case PlotKind.Loss: SaveLoss(Tracking(trainer, kind), path, width, height); break;
            case PlotKind.LearningRate: SaveLearningRate(Tracking(trainer, kind), path, width, height); break;
            case PlotKind.Metrics:
                var records = trainer.Callbacks.OfType<MetricsCB>().FirstOrDefault()?.Records ?? Tracking(trainer, kind).Epochs;
                SaveMetrics(records, path, width, height);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Valid kinds: {string.Join(", ", Enum.GetNames<PlotKind>())}.");
        }
    }

    private static TrackingCB Tracking(Trainer trainer, PlotKind kind) => trainer.Callbacks.OfType<TrackingCB>().FirstOrDefault()
        ?? throw new InvalidOperationException(
            $"Nothing to plot: the trainer has no TrackingCB, which records what a {kind} plot shows{(kind == PlotKind.Metrics ? " (nor a MetricsCB)" : "")}. " +
            "Add one before the fit: trainer.AddCallbacks(new TrackingCB()) in C#, Add-IsaacCallback $trainer -Callback (New-IsaacCallback Tracking) in PowerShell.");

    /// <summary>
    /// Train loss per batch (and its smoothed line) against batches seen, and valid loss per epoch placed
    /// where each epoch's train batches ended.
    /// </summary>
    public static void SaveLoss(TrackingCB tracking, string path, int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(tracking);
        RequireTrainBatches(tracking);
        using var plot = NewPlot("Loss", "batch", "loss");
        var batches = BatchNumbers(tracking.TrainLosses.Count);
        AddLine(plot, batches, tracking.TrainLosses, TrainColor, "train loss (per batch)", width: 1);
        if (tracking.TrainLosses.Count > 2)
            AddLine(plot, batches, Smoothed(tracking.TrainLosses), SmoothColor, "train loss (smoothed)", width: 2);
        var valid = tracking.Epochs.Select((e, i) => (X: (double)tracking.EpochEnds[i], Y: e.ValidLoss)).Where(p => p.Y is not null).ToList();
        if (valid.Count > 0)
            AddEpochLine(plot, valid.Select(p => p.X).ToList(), valid.Select(p => p.Y!.Value).ToList(), ValidColor, "valid loss (per epoch)", MarkerShape.FilledCircle);
        Save(plot, path, width, height);
    }

    /// <summary>
    /// Each metric per epoch on the left axis, and the train and valid loss per epoch on the right one
    /// (losses and metrics differ in scale), from <see cref="MetricsCB.Records"/> or <see cref="TrackingCB.Epochs"/>.
    /// </summary>
    public static void SaveMetrics(IReadOnlyList<EpochRecord> records, string path, int width = DefaultWidth, int height = DefaultHeight)
    {
        using var plot = MetricsPlot(records);
        Save(plot, path, width, height);
    }

    /// <summary>
    /// The plot <see cref="SaveMetrics"/> writes, for a caller to change before saving it. Both axes start at 0
    /// (or below, for negative values): two axes that each fitted their own range would draw any two curves of
    /// two epochs, and an Rmse beside its own MSE loss, on exactly the same pixels.
    /// </summary>
    public static Plot MetricsPlot(IReadOnlyList<EpochRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
            throw new InvalidOperationException("Nothing to plot: there are no epoch records. Run a fit first (MetricsCB or TrackingCB records one per epoch).");
        var plot = NewPlot("Metrics per epoch", "epoch", "metric value");
        var epochs = records.Select(r => (double)r.Epoch).ToList();
        var names = records.SelectMany(r => r.Metrics.Keys).Distinct().ToList();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < names.Count; i++)
        {
            var values = records.Select(r => r.Metrics.TryGetValue(names[i], out var v) ? v : double.NaN).ToList();
            var color = palette.GetColor(i + 2); // after train's blue and valid's orange
            AddEpochLine(plot, epochs, values, color, names[i], MarkerShape.FilledCircle);
        }
        bool hasMetrics = names.Count > 0;
        var lossAxis = hasMetrics ? plot.Axes.Right : plot.Axes.Left;
        lossAxis.Label.Text = "loss";
        var losses = new List<double>();
        foreach (var (color, label, loss) in new[] { (TrainColor, "train loss", (Func<EpochRecord, double?>)(r => r.TrainLoss)), (ValidColor, "valid loss", r => r.ValidLoss) })
        {
            if (records.All(r => loss(r) is null)) continue;
            var values = records.Select(r => loss(r) ?? double.NaN).ToList();
            losses.AddRange(values);
            var line = AddEpochLine(plot, epochs, values, color, label + (hasMetrics ? " (right axis)" : ""), MarkerShape.FilledSquare);
            line.LinePattern = hasMetrics ? LinePattern.Dashed : LinePattern.Solid;
            line.Axes.YAxis = lossAxis;
        }
        if (hasMetrics) FromZero(plot, plot.Axes.Left, records.SelectMany(r => r.Metrics.Values));
        FromZero(plot, lossAxis, losses);
        if (!hasMetrics) plot.Title("Loss per epoch");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return plot;
    }

    /// <summary>The axis from 0 (or the lowest value, if below) to a little above the highest finite value.</summary>
    private static void FromZero(Plot plot, ScottPlot.IYAxis axis, IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).ToList();
        if (finite.Count == 0) return;
        double low = Math.Min(0, finite.Min()), high = Math.Max(0, finite.Max());
        double margin = high > low ? 0.05 * (high - low) : 1;
        plot.Axes.SetLimitsY(low < 0 ? low - margin : 0, high + margin, axis);
    }

    /// <summary>The learning rate of each train batch against batches seen (<see cref="TrackingCB.Lrs"/>).</summary>
    public static void SaveLearningRate(TrackingCB tracking, string path, int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(tracking);
        RequireTrainBatches(tracking);
        using var plot = NewPlot("Learning rate per batch", "batch", "learning rate");
        AddLine(plot, BatchNumbers(tracking.Lrs.Count), tracking.Lrs, TrainColor, "learning rate", width: 2);
        // From 0, so a constant rate is a flat line at its height rather than the middle of an arbitrary range.
        double highest = tracking.Lrs.Where(double.IsFinite).DefaultIfEmpty(0).Max();
        if (highest > 0) plot.Axes.SetLimitsY(0, highest * 1.1);
        Save(plot, path, width, height);
    }

    /// <summary>
    /// The smoothed loss against learning rate on a log-10 axis, as a learning-rate finder measured them, with
    /// the suggested learning rate marked by a labelled vertical line.
    /// </summary>
    public static void SaveLearningRateFinder(IReadOnlyList<double> lrs, IReadOnlyList<double> smoothedLosses, double? suggestedLr, string path, int width = DefaultWidth, int height = DefaultHeight)
    {
        using var plot = LearningRateFinderPlot(lrs, smoothedLosses, suggestedLr);
        Save(plot, path, width, height);
    }

    /// <summary>The plot <see cref="SaveLearningRateFinder"/> writes, for a caller to change before saving it.</summary>
    public static Plot LearningRateFinderPlot(IReadOnlyList<double> lrs, IReadOnlyList<double> smoothedLosses, double? suggestedLr)
    {
        var losses = smoothedLosses;
        ArgumentNullException.ThrowIfNull(lrs);
        ArgumentNullException.ThrowIfNull(losses);
        if (lrs.Count != losses.Count)
            throw new ArgumentException($"The learning rates and losses must pair up: there are {lrs.Count} learning rates and {losses.Count} losses.", nameof(smoothedLosses));
        if (lrs.Count == 0)
            throw new InvalidOperationException("Nothing to plot: the learning-rate finder recorded no points.");
        int bad = lrs.ToList().FindIndex(lr => !(lr > 0 && double.IsFinite(lr)));
        if (bad >= 0)
            throw new ArgumentOutOfRangeException(nameof(lrs), lrs[bad], $"Learning rate {bad} is {lrs[bad]}; every learning rate must be a finite number above 0, for a log-10 axis.");
        if (suggestedLr is { } s && (!(s > 0) || !double.IsFinite(s)))
            throw new ArgumentOutOfRangeException(nameof(suggestedLr), s, "The suggested learning rate must be a finite number above 0, or null for none.");
        var plot = NewPlot("Learning rate finder", "learning rate (log scale)", "smoothed loss");
        var logLrs = lrs.Select(Math.Log10).ToList();
        AddLine(plot, logLrs, losses, TrainColor, "smoothed loss", width: 2);
        if (suggestedLr is { } suggestion)
        {
            double x = Math.Log10(suggestion);
            plot.Add.VerticalLine(x, 2, MarkColor, LinePattern.Dashed).LegendText = "suggested " + LrLabel(suggestion);
            // and a dot on the curve at the measured point nearest the suggestion
            var finite = Enumerable.Range(0, logLrs.Count).Where(i => double.IsFinite(losses[i])).ToList();
            if (finite.Count > 0)
            {
                int nearest = finite.MinBy(i => Math.Abs(logLrs[i] - x));
                plot.Add.Marker(logLrs[nearest], losses[nearest], MarkerShape.FilledCircle, 10, MarkColor);
            }
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true, // one major tick per power of ten
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = exponent => LrLabel(Math.Pow(10, exponent)),
        };
        return plot;
    }

    private static void RequireTrainBatches(TrackingCB tracking)
    {
        if (tracking.TrainLosses.Count == 0)
            throw new InvalidOperationException("Nothing to plot: the TrackingCB has recorded no train batch. Run a fit that trains with it first.");
    }

    internal static Plot NewPlot(string title, string xLabel, string yLabel, bool legend = true)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (SansFont.Value is { } font) plot.Font.Set(font);
        // Outside the data area, so it never hides a curve. (Shown there then hidden, ScottPlot 5.1.59 draws a blank image.)
        if (legend) plot.ShowLegend(Edge.Bottom);
        return plot;
    }

    private static ScottPlot.Plottables.Scatter AddLine(Plot plot, IReadOnlyList<double> xs, IReadOnlyList<double> ys, Color color, string label, float width)
    {
        var finite = xs.Zip(ys).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second)).ToArray();
        var line = plot.Add.ScatterLine(finite.Select(p => p.First).ToArray(), finite.Select(p => p.Second).ToArray(), color);
        line.LegendText = label;
        line.LineWidth = width;
        return line;
    }

    /// <summary>One point per epoch: a line with a marker at each point.</summary>
    private static ScottPlot.Plottables.Scatter AddEpochLine(Plot plot, IReadOnlyList<double> xs, IReadOnlyList<double> ys, Color color, string label, MarkerShape marker)
    {
        var line = AddLine(plot, xs, ys, color, label, width: 2);
        line.MarkerShape = marker;
        line.MarkerSize = 7;
        return line;
    }

    /// <summary>Batches counted from 1, so the last train batch sits at the count of batches seen.</summary>
    private static List<double> BatchNumbers(int count) => Enumerable.Range(1, count).Select(i => (double)i).ToList();

    /// <summary>An exponential moving average, debiased as fastai's smoothed loss is, so the start is not pulled to 0.</summary>
    private static List<double> Smoothed(IReadOnlyList<double> values, double beta = 0.9)
    {
        var average = new Metrics.DebiasedAverage(beta);
        var smoothed = new List<double>(values.Count);
        foreach (var value in values) smoothed.Add(average.Add(value));
        return smoothed;
    }

    private static string LrLabel(double lr) => lr.ToString("0.##e0", CultureInfo.InvariantCulture);

    internal static void Save(Plot plot, string path, int width, int height)
    {
        CheckTarget(path, width, height);
        WritePng(path, plot.GetImageBytes(width, height, ImageFormat.Png));
    }

    /// <summary>Refuses a blank path or a size out of range before anything is drawn.</summary>
    internal static void CheckTarget(string path, int width, int height)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        foreach (var (name, size) in new[] { (nameof(width), width), (nameof(height), height) })
            if (size is < MinSize or > MaxSize)
                throw new ArgumentOutOfRangeException(name, size, $"A plot's {name} is in pixels, from {MinSize} to {MaxSize}.");
    }

    internal static void WritePng(string path, byte[] png) => AtomicFile.Write(path, stream => stream.Write(png));
}
