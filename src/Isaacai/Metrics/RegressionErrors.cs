using static TorchSharp.torch;

namespace Isaacai.Metrics;

/// <summary>Root mean squared error, in the target's own units (see <see cref="IMetricInTargetUnits"/>).</summary>
public sealed class Rmse : IMetricInTargetUnits
{
    public double Scale { get; set; } = 1;

    private double _sum;
    private long _count;

    public void Reset() => (_sum, _count) = (0, 0);

    public void Update(Tensor preds, Tensor targets)
    {
        using var scope = NewDisposeScope();
        _sum += preds.flatten().sub(targets.flatten()).square().sum().item<float>();
        _count += targets.shape[0];
    }

    public double Compute() => _count == 0 ? double.NaN : Math.Sqrt(_sum / _count) * Scale;
}

/// <summary>Mean absolute error, in the target's own units (see <see cref="IMetricInTargetUnits"/>).</summary>
public sealed class Mae : IMetricInTargetUnits
{
    public double Scale { get; set; } = 1;

    private double _sum;
    private long _count;

    public void Reset() => (_sum, _count) = (0, 0);

    public void Update(Tensor preds, Tensor targets)
    {
        using var scope = NewDisposeScope();
        _sum += preds.flatten().sub(targets.flatten()).abs().sum().item<float>();
        _count += targets.shape[0];
    }

    public double Compute() => _count == 0 ? double.NaN : _sum / _count * Scale;
}
