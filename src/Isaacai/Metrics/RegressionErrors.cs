using static TorchSharp.torch;

namespace Isaacai.Metrics;

/// <summary>
/// A mean over samples of an error between prediction and target, in the target's own units (see
/// <see cref="IMetricInTargetUnits"/>): the shared part of <see cref="Rmse"/> and <see cref="Mae"/>.
/// </summary>
public abstract class MeanErrorMetric : IMetricInTargetUnits
{
    private double _sum;
    private long _count;

    public double Scale { get; set; } = 1;

    public void Reset() => (_sum, _count) = (0, 0);

    public void Update(Tensor preds, Tensor targets)
    {
        using var scope = NewDisposeScope();
        _sum += ErrorOf(preds.flatten().sub(targets.flatten())).to_type(ScalarType.Float64).sum().item<double>();
        _count += targets.shape[0];
    }

    public double Compute() => _count == 0 ? double.NaN : Finish(_sum / _count) * Scale;

    /// <summary>Each sample's error from its difference, prediction − target.</summary>
    protected abstract Tensor ErrorOf(Tensor difference);

    /// <summary>The figure from the mean error.</summary>
    protected virtual double Finish(double meanError) => meanError;
}

/// <summary>Root mean squared error.</summary>
public sealed class Rmse : MeanErrorMetric
{
    protected override Tensor ErrorOf(Tensor difference) => difference.square();
    protected override double Finish(double meanError) => Math.Sqrt(meanError);
}

/// <summary>Mean absolute error.</summary>
public sealed class Mae : MeanErrorMetric
{
    protected override Tensor ErrorOf(Tensor difference) => difference.abs();
}
