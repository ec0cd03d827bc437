using System.Globalization;
using Isaacai.Callbacks;
using Microsoft.Extensions.Logging;

namespace Isaacai.Schedules;

/// <summary>One point of an LR range test.</summary>
public readonly record struct LRFinderPoint(int Iteration, double Lr, double Loss, double SmoothedLoss);

/// <summary>
/// What an LR range test found: its points and two suggestions, as fastai's lr_find gives, both looked for
/// past the sweep's first tenth. Steep is where the smoothed loss falls fastest against log(lr); Valley is
/// fastai's default: the middle of the longest stretch over which the loss keeps falling, a little further on,
/// and never at a point where the loss has not fallen below where that part of the sweep began.
/// </summary>
public sealed record LRFinderResult(IReadOnlyList<LRFinderPoint> Points, double SteepLr, double ValleyLr)
{
    /// <summary>
    /// The learning rate to start from: <see cref="ValleyLr"/>, as fastai's default. The steepest descent is
    /// often a blip of noise at the very start of the sweep, where nothing has been learnt yet (1.45e-7 on a
    /// regression, which then trained worse than predicting the mean).
    /// </summary>
    public double SuggestedLr => ValleyLr;
}

/// <summary>Runs an LR range test on a trainer and leaves the trainer as it found it.</summary>
public static class LRFinder
{
    /// <summary>
    /// Trains with <see cref="LRFinderCB"/> for as many epochs as its iterations need, then puts back the
    /// model's weights (LRFinderCB does), the trainer's optimizer object with its state (a fit replaces it)
    /// and torch's random generator (the test shuffles), so the next fit starts exactly where it would have.
    /// The trainer's callbacks that act on epoch results (they implement after_epoch: metrics, tracking,
    /// early stopping, checkpoints, logs) or set the learning rate (one-cycle, schedules) sit the test out,
    /// so it writes no records or files and nothing fights its sweep; the others (the training step,
    /// the device) run as in any fit. Its epochs are reported to no one; <paramref name="logger"/> gets its
    /// messages. A trainer that is fitting is refused (<see cref="TrainerBusyException"/>) untouched.
    /// </summary>
    public static LRFinderResult Run(Trainer trainer, LRFinderCB finder, CancellationToken cancellation = default, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(finder);
        int batches = trainer.Dls.Train.BatchCount;
        int epochs = (finder.Iterations + batches - 1) / batches;
        using (trainer.Claim()) // before anything is changed: a trainer that is fitting is refused as it is
        {
            var optimizer = trainer.Opt;
            var callbacks = trainer.Callbacks.ToList();
            using var rng = TorchSharp.torch.random.get_rng_state();
            trainer.Opt = null; // so the test's fit makes its own optimizer instead of disposing this one
            foreach (var callback in callbacks.Where(c => c.Implements(Hook.AfterEpoch) || c is OneCycleCB or ScheduleCB)) trainer.RemoveCallback(callback);
            try { trainer.FitClaimed(epochs, train: true, valid: false, lr: null, cancellation, [finder], NullTrainingReporter.Instance, logger, resume: null); }
            finally
            {
                foreach (var callback in trainer.Callbacks.ToList()) trainer.RemoveCallback(callback);
                trainer.AddCallbacks(callbacks); // as they were, in their order
                trainer.Opt?.Dispose();
                trainer.Opt = optimizer;
                TorchSharp.torch.random.set_rng_state(rng);
            }
        }
        return Analyse(finder.Lrs, finder.Losses, finder.SmoothedLosses, finder.Iterations);
    }

    /// <summary>
    /// The suggestions for recorded (lr, loss) points of a sweep planned over <paramref name="sweepLength"/>
    /// batches (by default, as many as there are points). As fastai's lr_find, the sweep's first tenth is left
    /// out: there the smoothed loss is mostly the average warming up, and a rate there learns nothing. The last
    /// point, where the test diverged, and points whose smoothed loss is not finite are left out too.
    /// </summary>
    public static LRFinderResult Analyse(IReadOnlyList<double> lrs, IReadOnlyList<double> losses, IReadOnlyList<double> smoothed, int? sweepLength = null)
    {
        if (lrs.Count != losses.Count || lrs.Count != smoothed.Count) throw new ArgumentException("The learning rates and losses must pair up.");
        var points = lrs.Select((lr, i) => new LRFinderPoint(i, lr, losses[i], smoothed[i])).ToList();
        int skip = (sweepLength ?? points.Count) / 10;
        var usable = points.Take(points.Count - 1).Skip(skip).Where(p => double.IsFinite(p.SmoothedLoss)).ToList();
        if (usable.Count < 2)
            throw new InvalidOperationException($"The LR range test stopped after {points.Count} batch(es), too few past the first tenth of its sweep to suggest a learning rate: lower StartLr, or raise StopDivergence.");
        return new LRFinderResult(points, Steep(usable), Valley(usable));
    }

    private static double Steep(List<LRFinderPoint> points)
    {
        // Only the descent to the lowest smoothed loss: past it the loss is diverging, and a steep drop there
        // is the average recovering from a spike, not a rate to train at.
        int lowest = points.Select((p, i) => (p.SmoothedLoss, i)).MinBy(p => p.SmoothedLoss).i;
        int steepest = 0;
        double bestSlope = double.PositiveInfinity;
        for (int i = 1; i <= lowest; i++)
        {
            double slope = (points[i].SmoothedLoss - points[i - 1].SmoothedLoss) / (Math.Log(points[i].Lr) - Math.Log(points[i - 1].Lr));
            if (slope < bestSlope) (bestSlope, steepest) = (slope, i);
        }
        return points[steepest].Lr;
    }

    /// <summary>
    /// How far below its start the smoothed loss must fall for the sweep to have found a fall at all: on a flat
    /// sweep (the penguins at lr 1e-10 to 1e-9) batch-to-batch noise moves it by about a percent, 1.054 to 1.068.
    /// </summary>
    private const double MinimumFall = 0.05;

    private static double Valley(List<LRFinderPoint> points)
    {
        // The longest run of points each lower than some earlier point of the run (a longest decreasing
        // subsequence ending at each point), then a spot a half of a third into it, as fastai picks.
        int n = points.Count;
        var length = new int[n];
        int end = 0, start = 0;
        for (int i = 0; i < n; i++)
        {
            length[i] = 1;
            for (int j = 0; j < i; j++)
                if (points[i].SmoothedLoss < points[j].SmoothedLoss && length[i] < length[j] + 1) length[i] = length[j] + 1;
            if (length[i] > length[end]) (end, start) = (i, i - length[i] + 1);
        }
        double third = (end - start) / 3.0;
        int pick = Math.Min(n - 1, start + (int)third + (int)(third / 2));
        // Never where the loss has not fallen from where the analysed sweep began (a flat, noisy start can make the
        // longest run begin there): the first point from the pick on that is a tenth of the way down to the lowest
        // loss, so that noise just under the start does not count as a fall.
        double startLoss = points[0].SmoothedLoss;
        var lowest = points.MinBy(p => p.SmoothedLoss);
        if (!(lowest.SmoothedLoss < startLoss * (1 - MinimumFall)))
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The smoothed loss never fell more than {MinimumFall * 100}% below {startLoss:G4} (its value at lr {points[0].Lr:G3}) in the LR range test up to lr {points[^1].Lr:G3} (its lowest: {lowest.SmoothedLoss:G4}), ") +
                "so there is no learning rate to suggest: check that the model can learn from the data (inputs, targets, loss function), or raise EndLr.");
        double fallen = startLoss - 0.1 * (startLoss - lowest.SmoothedLoss);
        for (int i = pick; i < n; i++)
            if (points[i].SmoothedLoss <= fallen) return points[i].Lr;
        return lowest.Lr;
    }
}
