namespace Isaacai.Metrics;

/// <summary>
/// An exponential moving average corrected for starting at zero, as fastai smooths a loss: after n values
/// it weighs them by beta^(n-i)(1-beta) and divides by 1 - beta^n. Values that are not finite are skipped.
/// </summary>
public struct DebiasedAverage(double beta)
{
    private double _average;
    private int _count;

    public readonly double Value => _count == 0 ? double.NaN : _average / (1 - Math.Pow(beta, _count));

    /// <summary>Takes in <paramref name="value"/> and returns the average so far.</summary>
    public double Add(double value)
    {
        if (double.IsFinite(value))
        {
            _average = beta * _average + (1 - beta) * value;
            _count++;
        }
        return Value;
    }
}
