using static TorchSharp.torch;

namespace Isaacai.Optimization;

/// <summary>
/// TorchSharp's Adam and AdamW update, operation for operation, on any matching weights, gradient and moments:
/// a whole flat group at once or one parameter tensor.
/// </summary>
internal static class AdamUpdate
{
    /// <summary>
    /// One update at step <paramref name="step"/> (counted from 1). <paramref name="decoupledWeightDecay"/> is AdamW's
    /// decay of the weights, else Adam's L2 term added to the gradient. <paramref name="maxExpAvgSq"/> is AMSGrad's
    /// running maximum, updated in place.
    /// </summary>
    public static void Apply(Tensor weights, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, long step, AdamSettings s, bool decoupledWeightDecay)
    {
        double biasCorrection1 = 1 - Math.Pow(s.Beta1, step), biasCorrection2 = 1 - Math.Pow(s.Beta2, step);
        using var negated = s.Maximize ? grad.neg() : null;
        grad = negated ?? grad;
        using var decayed = !decoupledWeightDecay && s.WeightDecay != 0 ? grad.add(weights, alpha: s.WeightDecay) : null;
        grad = decayed ?? grad;
        if (decoupledWeightDecay && s.WeightDecay != 0) weights.mul_(1 - s.Lr * s.WeightDecay); // × 1 would change nothing

        expAvg.mul_(s.Beta1).add_(grad, alpha: 1 - s.Beta1);
        expAvgSq.mul_(s.Beta2).addcmul_(grad, grad, value: 1 - s.Beta2);
        var second = expAvgSq;
        if (maxExpAvgSq is not null)
        {
            using var larger = maximum(maxExpAvgSq, expAvgSq);
            maxExpAvgSq.copy_(larger);
            second = maxExpAvgSq;
        }
        using var denominator = second.sqrt();
        denominator.div_(Math.Sqrt(biasCorrection2)).add_(s.Eps);
        weights.addcdiv_(expAvg, denominator, value: -(s.Lr / biasCorrection1));
    }
}
