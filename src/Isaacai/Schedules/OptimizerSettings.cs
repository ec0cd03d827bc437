using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace Isaacai.Schedules;

/// <summary>
/// Reads and sets the learning rate and momentum of every parameter group of an optimizer: what a
/// schedule changes between steps. Momentum is SGD's/RMSprop's momentum, or beta1 for the Adam family.
/// </summary>
public static class OptimizerSettings
{
    // Discriminative rates: each parameter group's multiplier of the base rate, for optimizers made with them.
    private static readonly ConditionalWeakTable<optim.Optimizer, double[]> Multipliers = new();

    /// <summary>
    /// Gives the optimizer's parameter groups their multipliers of the base learning rate (fastai's
    /// <c>slice(lo, hi)</c>): from now on <see cref="SetLr"/> sets each group to the rate times its multiplier.
    /// </summary>
    public static void SetLrMultipliers(optim.Optimizer optimizer, IReadOnlyList<double> multipliers)
    {
        int groups = optimizer.ParamGroups.Count();
        if (multipliers.Count != groups) throw new ArgumentException($"{multipliers.Count} multiplier(s) for {groups} parameter group(s).", nameof(multipliers));
        if (multipliers.Any(m => !(m > 0 && double.IsFinite(m)))) throw new ArgumentOutOfRangeException(nameof(multipliers), "Learning-rate multipliers must be positive finite numbers.");
        Multipliers.AddOrUpdate(optimizer, multipliers.ToArray());
    }

    /// <summary>Each parameter group's multiplier of the base rate: all 1 unless <see cref="SetLrMultipliers"/> set them.</summary>
    public static IReadOnlyList<double> GetLrMultipliers(optim.Optimizer optimizer) =>
        Multipliers.TryGetValue(optimizer, out var multipliers) ? multipliers : optimizer.ParamGroups.Select(_ => 1.0).ToArray();

    /// <summary>The base learning rate: the first group's rate over its multiplier (all groups share it unless split).</summary>
    public static double GetLr(optim.Optimizer optimizer) =>
        optimizer.ParamGroups.Select(g => g.LearningRate).DefaultIfEmpty(double.NaN).First() / GetLrMultipliers(optimizer).DefaultIfEmpty(1).First();

    /// <summary>Sets every parameter group to <paramref name="lr"/> times its multiplier, so a schedule keeps discriminative rates in ratio.</summary>
    public static void SetLr(optim.Optimizer optimizer, double lr)
    {
        if (!(lr >= 0 && double.IsFinite(lr))) throw new ArgumentOutOfRangeException(nameof(lr), lr, "A learning rate must be a finite number, 0 or more.");
        var multipliers = GetLrMultipliers(optimizer);
        foreach (var (group, multiplier) in optimizer.ParamGroups.Zip(multipliers)) group.LearningRate = lr * multiplier;
    }

    /// <summary>Whether the optimizer has a momentum (or beta1) a schedule can move.</summary>
    public static bool HasMomentum(optim.Optimizer optimizer) => optimizer is optim.IBetas or optim.IMomentum;

    /// <summary>The first parameter group's momentum (or beta1): the one its steps use.</summary>
    public static double? GetMomentum(optim.Optimizer optimizer) => MomentumOf(optimizer.ParamGroups.FirstOrDefault()) ?? MomentumOf(optimizer);

    private static double? MomentumOf(object? holder) => holder switch
    {
        optim.IBetas betas => betas.Betas.Item1,
        optim.IMomentum momentum => momentum.Momentum,
        _ => null,
    };

    /// <summary>
    /// Sets momentum (beta1 for Adam-like optimizers) in every parameter group, and in the optimizer's defaults for
    /// groups added later; does nothing for optimizers without one. TorchSharp's optimizer-level setter changes only
    /// the defaults, while each step reads its group's own copy, so the groups must be set one by one.
    /// </summary>
    public static void SetMomentum(optim.Optimizer optimizer, double momentum)
    {
        foreach (var holder in optimizer.ParamGroups.Cast<object>().Prepend(optimizer))
            switch (holder)
            {
                case optim.IBetas betas: betas.Betas = (momentum, betas.Betas.Item2); break;
                case optim.IMomentum withMomentum: withMomentum.Momentum = momentum; break;
            }
    }
}
