using static TorchSharp.torch;

namespace Isaacai.Metrics;

/// <summary>The share of samples whose highest-scoring class is the target class.</summary>
public sealed class MulticlassAccuracy : IMetric
{
    private long _correct, _total;

    public void Reset() => (_correct, _total) = (0, 0);

    public void Update(Tensor preds, Tensor targets)
    {
        using var predicted = preds.argmax(1);
        using var hits = predicted.eq(targets);
        using var count = hits.sum();
        _correct += count.item<long>();
        _total += targets.shape[0];
    }

    public double Compute() => _total == 0 ? double.NaN : (double)_correct / _total;
}
