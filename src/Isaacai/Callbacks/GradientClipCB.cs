using static TorchSharp.torch;

namespace Isaacai.Callbacks;

/// <summary>
/// Scales the gradients down so that their overall norm is at most <see cref="MaxNorm"/>, after backward and
/// before the step (torch's <c>clip_grad_norm_</c>). Runs after GradientAccumulationCB, so an accumulated
/// gradient is clipped once, as a whole.
/// </summary>
public class GradientClipCB : Callback
{
    public GradientClipCB(double maxNorm = 1.0, double normType = 2.0)
    {
        MaxNorm = maxNorm > 0 && double.IsFinite(maxNorm) ? maxNorm : throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "MaxNorm must be a positive finite number.");
        NormType = normType > 0 ? normType : throw new ArgumentOutOfRangeException(nameof(normType), normType, "NormType must be positive (2 for the Euclidean norm, +Infinity for the largest value).");
        Order = 20; // after BasicTrainCB's backward (0) and GradientAccumulationCB (10)
    }

    public double MaxNorm { get; }
    public double NormType { get; }

    /// <summary>The gradients' norm before clipping, at the last step.</summary>
    public double LastNorm { get; private set; } = double.NaN;

    public override void Backward(Trainer trainer) =>
        LastNorm = nn.utils.clip_grad_norm_(trainer.Model.parameters(), MaxNorm, NormType);
}
