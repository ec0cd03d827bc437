using static TorchSharp.torch;

namespace Isaacai.Metrics;

/// <summary>
/// The F1 score of each class (harmonic mean of precision and recall), averaged over the classes that occur
/// in the targets or the predictions: it weighs a rare class as much as a common one, unlike accuracy.
/// </summary>
public sealed class MacroF1 : IMetric
{
    private long[] _truePositive = [], _predicted = [], _actual = [];

    public void Reset() => _truePositive = _predicted = _actual = [];

    public void Update(Tensor preds, Tensor targets)
    {
        int classes = (int)preds.shape[1];
        if (_truePositive.Length != classes) (_truePositive, _predicted, _actual) = (new long[classes], new long[classes], new long[classes]);
        using var scope = NewDisposeScope();
        var predicted = preds.argmax(1).cpu().data<long>().ToArray();
        var actual = targets.cpu().to_type(ScalarType.Int64).data<long>().ToArray();
        for (int i = 0; i < actual.Length; i++)
        {
            _predicted[predicted[i]]++;
            _actual[actual[i]]++;
            if (predicted[i] == actual[i]) _truePositive[actual[i]]++;
        }
    }

    public double Compute()
    {
        double sum = 0;
        int present = 0;
        for (int c = 0; c < _actual.Length; c++)
        {
            if (_actual[c] + _predicted[c] == 0) continue;
            sum += 2.0 * _truePositive[c] / (_actual[c] + _predicted[c]);
            present++;
        }
        return present == 0 ? double.NaN : sum / present;
    }
}
