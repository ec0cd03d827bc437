using Isaacai.Callbacks;
using Isaacai.Models;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Isaacai.Training;

/// <summary>
/// fastai's <c>fine_tune</c>: train the head of a pretrained model with the body frozen, then everything with
/// discriminative learning rates, each phase under one-cycle.
/// </summary>
public static class FineTuning
{
    /// <summary>
    /// Freezes the body, fits <paramref name="freezeEpochs"/> epochs with one-cycle peaking at <paramref name="baseLr"/>
    /// (fastai's <c>slice(base_lr)</c>: the head at the rate, the body's BatchNorm layers, still trainable, at a tenth;
    /// warm-up over 99% of the batches), unfreezes, halves the rate, then fits <paramref name="epochs"/> epochs with
    /// one-cycle over rates spread evenly on a log scale from <c>baseLr / lrMult</c> for the body to <c>baseLr</c> for
    /// the head (<c>slice(base_lr/lr_mult, base_lr)</c>), with <paramref name="pctStart"/> and <paramref name="div"/>.
    /// One claim holds the trainer for both phases. A cancelled <paramref name="cancellation"/> ends the fit it
    /// stops and skips what is left. The model stays unfrozen after, as in fastai; <see cref="Trainer.LrMultipliers"/> is put back.
    /// </summary>
    public static void FineTune(this Trainer trainer, int epochs, double baseLr = 2e-3, int freezeEpochs = 1, double lrMult = 100,
                                double pctStart = 0.3, double div = 5, CancellationToken cancellation = default,
                                IEnumerable<Callback>? callbacks = null, ITrainingReporter? reporter = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        ArgumentOutOfRangeException.ThrowIfNegative(freezeEpochs);
        if (!(baseLr > 0 && double.IsFinite(baseLr))) throw new ArgumentOutOfRangeException(nameof(baseLr), baseLr, "The base learning rate must be a positive finite number.");
        if (!(lrMult >= 1 && double.IsFinite(lrMult))) throw new ArgumentOutOfRangeException(nameof(lrMult), lrMult, "The learning-rate ratio of head to body must be a finite number, 1 or more.");
        var model = trainer.Model as IHasParameterGroups
            ?? throw new ArgumentException($"Fine-tuning needs a model split into a body and a head (IHasParameterGroups), such as a VisionModel; a {trainer.Model.GetName()} is not.", nameof(trainer));
        if (trainer.Callbacks.OfType<OneCycleCB>().Any())
            throw new InvalidOperationException("The trainer already has a OneCycle callback, and fine-tuning brings its own for each phase; remove that callback first.");
        int groups = model.ParameterGroups.Count;
        var extra = callbacks?.ToList() ?? [];

        using var _ = trainer.Claim();
        var previous = trainer.LrMultipliers;
        try
        {
            Freezing.Freeze(model);
            trainer.LrMultipliers = HeadAndTenths(groups);
            trainer.FitClaimed(freezeEpochs, true, true, baseLr, cancellation, [.. extra, new OneCycleCB(baseLr, pctStart: 0.99)], reporter, logger, null);
            if (cancellation.IsCancellationRequested) return;

            baseLr /= 2;
            Freezing.Unfreeze(model);
            trainer.LrMultipliers = EvenlySpread(1 / lrMult, groups);
            trainer.FitClaimed(epochs, true, true, baseLr, cancellation, [.. extra, new OneCycleCB(baseLr, div: div, pctStart: pctStart)], reporter, logger, null);
        }
        finally { trainer.LrMultipliers = previous; }
    }

    /// <summary>fastai's <c>slice(lr)</c> over <paramref name="groups"/> groups: the last at the rate, the others at a tenth of it.</summary>
    public static double[] HeadAndTenths(int groups) => [.. Enumerable.Repeat(0.1, groups - 1), 1.0];

    /// <summary>
    /// fastai's <c>slice(lo, hi)</c> as multipliers of hi: from <paramref name="lowest"/> for the first group to 1 for
    /// the last, evenly spaced on a log scale (2 groups: lowest, 1; 3 groups: lowest, √lowest, 1).
    /// </summary>
    public static double[] EvenlySpread(double lowest, int groups) => groups == 1 ? [1.0]
        : [.. Enumerable.Range(0, groups).Select(i => Math.Pow(lowest, 1 - (double)i / (groups - 1)))];
}
