using static TorchSharp.torch;

namespace Isaacai.Optimization;

/// <summary>The settings of one SGD parameter group for one step.</summary>
internal readonly record struct SgdSettings(double Lr, double Momentum, double Dampening, double WeightDecay, bool Nesterov, bool Maximize);

/// <summary>
/// TorchSharp's SGD update, operation for operation, on any matching weights, gradient and momentum buffer: a whole
/// flat group at once or one parameter tensor. One per optimizer, holding the scalars its steps reuse.
/// </summary>
internal sealed class SgdUpdate : IDisposable
{
    private readonly CachedScalar _weightDecay = new(), _momentum = new(), _oneMinusDampening = new(), _stepSize = new();

    /// <summary>
    /// One update. With momentum, <paramref name="buffer"/> is updated in place; on the <paramref name="firstStep"/> it
    /// takes the gradient's values, as TorchSharp's first step clones the gradient.
    /// </summary>
    public void Apply(Tensor weights, Tensor grad, Tensor? buffer, bool firstStep, SgdSettings s)
    {
        using var decayed = s.WeightDecay != 0 ? grad.add(weights, alpha: _weightDecay.Of(s.WeightDecay)) : null;
        grad = decayed ?? grad;
        var direction = s.Momentum == 0 ? grad
            : firstStep ? buffer!.copy_(grad)
            : buffer!.mul_(_momentum.Of(s.Momentum)).add_(grad, alpha: _oneMinusDampening.Of(1 - s.Dampening));
        using var nesterov = s.Momentum != 0 && s.Nesterov ? grad.add(direction, alpha: _momentum.Of(s.Momentum)) : null;
        weights.add_(nesterov ?? direction, alpha: _stepSize.Of(s.Maximize ? s.Lr : -s.Lr));
    }

    public void Dispose()
    {
        foreach (var scalar in new[] { _weightDecay, _momentum, _oneMinusDampening, _stepSize }) scalar.Dispose();
    }
}
