using static TorchSharp.torch;

namespace Isaacai.Schedules;

/// <summary>
/// Reads and sets the learning rate and momentum of every parameter group of an optimizer: what a
/// schedule changes between steps. Momentum is SGD's/RMSprop's momentum, or beta1 for the Adam family.
/// </summary>
public static class OptimizerSettings
{
    /// <summary>The learning rate of the first parameter group (all groups share it unless a user split them).</summary>
    public static double GetLr(optim.Optimizer optimizer) =>
        optimizer.ParamGroups.Select(g => g.LearningRate).DefaultIfEmpty(double.NaN).First();

    public static void SetLr(optim.Optimizer optimizer, double lr)
    {
        if (!(lr >= 0 && double.IsFinite(lr))) throw new ArgumentOutOfRangeException(nameof(lr), lr, "A learning rate must be a finite number, 0 or more.");
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }

    /// <summary>Whether the optimizer has a momentum (or beta1) a schedule can move.</summary>
    public static bool HasMomentum(optim.Optimizer optimizer) => optimizer is optim.IBetas or optim.IMomentum;

    public static double? GetMomentum(optim.Optimizer optimizer) => optimizer switch
    {
        optim.IBetas betas => betas.Betas.Item1,
        optim.IMomentum momentum => momentum.Momentum,
        _ => null,
    };

    /// <summary>Sets momentum (beta1 for Adam-like optimizers); does nothing for optimizers without one.</summary>
    public static void SetMomentum(optim.Optimizer optimizer, double momentum)
    {
        switch (optimizer)
        {
            case optim.IBetas betas: betas.Betas = (momentum, betas.Betas.Item2); break;
            case optim.IMomentum withMomentum: withMomentum.Momentum = momentum; break;
        }
    }
}
