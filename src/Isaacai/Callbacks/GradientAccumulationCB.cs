using static TorchSharp.torch;

namespace Isaacai.Callbacks;

/// <summary>
/// Steps the optimizer once every <see cref="Steps"/> train batches, with the mean of their gradients:
/// with a mean loss and equal batches, the same step as one batch <see cref="Steps"/> times as large, in
/// the memory of one. The other batches end their training step with a CancelStepException, which keeps
/// the gradients and still runs after_batch. Groups do not cross epochs: the last group of an epoch may be
/// smaller, as a last batch may, so a checkpoint at an epoch's end holds no half-summed gradients; a group
/// a cancel cut short is dropped when the next epoch starts.
/// </summary>
public class GradientAccumulationCB : Callback
{
    private int _accumulated;

    public GradientAccumulationCB(int steps = 2)
    {
        Steps = steps >= 1 ? steps : throw new ArgumentOutOfRangeException(nameof(steps), steps, "Steps must be at least 1 batch.");
        Order = 10; // after BasicTrainCB's backward has added this batch's gradients
    }

    public int Steps { get; }

    /// <summary>
    /// A group a cancel or a stop cut short (in the last epoch, or the last fit) leaves its gradients behind:
    /// they are dropped, so every step is the mean of its own group only.
    /// </summary>
    public override void BeforeEpoch(Trainer trainer)
    {
        if (!trainer.Training) return;
        if (_accumulated > 0)
        {
            using var _ = no_grad();
            foreach (var parameter in trainer.Model.parameters()) parameter.grad?.zero_();
        }
        _accumulated = 0;
    }

    public override void Backward(Trainer trainer)
    {
        _accumulated++;
        bool lastOfEpoch = trainer.Iter == trainer.Dl!.BatchCount - 1;
        if (_accumulated < Steps && !lastOfEpoch) throw new CancelStepException();
        if (_accumulated > 1)
        {
            using var _ = no_grad();
            foreach (var parameter in trainer.Model.parameters()) parameter.grad?.div_(_accumulated);
        }
        _accumulated = 0;
    }
}
