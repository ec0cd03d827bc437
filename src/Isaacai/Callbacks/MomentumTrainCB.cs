using static TorchSharp.torch;

namespace Isaacai.Callbacks;

/// <summary>
/// The seed's momentum: instead of zeroing the gradients after a step, scale them by the momentum, so
/// each step also follows the previous gradients. (The seed's code stores <c>momentum</c> but reads
/// <c>mom</c>; this implements the intent.)
/// </summary>
public class MomentumTrainCB : BasicTrainCB
{
    public MomentumTrainCB(double momentum = 0.85)
    {
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "The momentum must be between 0 and 1.");
        Momentum = momentum;
    }

    public double Momentum { get; }

    public override void ZeroGrad(Trainer trainer)
    {
        using var _ = no_grad();
        foreach (var parameter in trainer.Model.parameters())
            parameter.grad?.mul_(Momentum);
    }
}
