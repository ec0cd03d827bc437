using static TorchSharp.torch;

namespace Isaacai.Optimization;

/// <summary>
/// TorchSharp's Adam and AdamW update, operation for operation, on any matching weights, gradient and moments:
/// a whole flat group at once or one parameter tensor. One per optimizer, holding the scalars its steps reuse.
/// </summary>
internal sealed class AdamUpdate(bool decoupledWeightDecay) : IDisposable
{
    /// <summary>AdamW's decay of the weights, rather than Adam's L2 term in the gradient.</summary>
    public bool DecoupledWeightDecay => decoupledWeightDecay;

    private readonly CachedScalar _beta1 = new(), _oneMinusBeta1 = new(), _beta2 = new(), _oneMinusBeta2 = new(), _eps = new(),
                                  _weightDecay = new(), _decayFactor = new(), _biasCorrection2Root = new(), _stepSize = new();

    /// <summary>
    /// One update at step <paramref name="step"/> (counted from 1): AdamW's decay of the weights when the weight decay
    /// is decoupled, else Adam's L2 term added to the gradient. <paramref name="maxExpAvgSq"/> is AMSGrad's running
    /// maximum, updated in place.
    /// </summary>
    public void Apply(Tensor weights, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, long step, AdamSettings s)
    {
        double biasCorrection1 = 1 - Math.Pow(s.Beta1, step), biasCorrection2 = 1 - Math.Pow(s.Beta2, step);
        using var negated = s.Maximize ? grad.neg() : null;
        grad = negated ?? grad;
        using var decayed = !decoupledWeightDecay && s.WeightDecay != 0 ? grad.add(weights, alpha: _weightDecay.Of(s.WeightDecay)) : null;
        grad = decayed ?? grad;
        if (decoupledWeightDecay && s.WeightDecay != 0) weights.mul_(_decayFactor.Of(1 - s.Lr * s.WeightDecay)); // × 1 would change nothing

        expAvg.mul_(_beta1.Of(s.Beta1)).add_(grad, alpha: _oneMinusBeta1.Of(1 - s.Beta1));
        expAvgSq.mul_(_beta2.Of(s.Beta2)).addcmul_(grad, grad, value: _oneMinusBeta2.Of(1 - s.Beta2));
        var second = expAvgSq;
        if (maxExpAvgSq is not null)
        {
            using var larger = maximum(maxExpAvgSq, expAvgSq);
            maxExpAvgSq.copy_(larger);
            second = maxExpAvgSq;
        }
        using var denominator = second.sqrt();
        denominator.div_(_biasCorrection2Root.Of(Math.Sqrt(biasCorrection2))).add_(_eps.Of(s.Eps));
        weights.addcdiv_(expAvg, denominator, value: _stepSize.Of(-(s.Lr / biasCorrection1)));
    }

    public void Dispose()
    {
        foreach (var scalar in new[] { _beta1, _oneMinusBeta1, _beta2, _oneMinusBeta2, _eps, _weightDecay, _decayFactor, _biasCorrection2Root, _stepSize })
            scalar.Dispose();
    }
}
