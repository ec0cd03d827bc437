using System.Collections;

namespace Isaacai;

/// <summary>
/// One epoch's results with exactly the seed's keys, in its order: each metric name, <c>train_loss</c>,
/// <c>valid_loss</c>, <c>epoch</c>, <c>elapsed</c>. A loss of a phase that did not run is null.
/// </summary>
public sealed class EpochRecord : IReadOnlyDictionary<string, object?>
{
    private readonly KeyValuePair<string, object?>[] _entries;

    public EpochRecord(IEnumerable<KeyValuePair<string, double>> metrics, double? trainLoss, double? validLoss, int epoch, TimeSpan elapsed)
    {
        Metrics = metrics.ToDictionary();
        TrainLoss = trainLoss;
        ValidLoss = validLoss;
        Epoch = epoch;
        Elapsed = elapsed;
        _entries = [
            .. Metrics.Select(m => new KeyValuePair<string, object?>(m.Key, m.Value)),
            new("train_loss", trainLoss), new("valid_loss", validLoss), new("epoch", epoch), new("elapsed", elapsed),
        ];
    }

    public IReadOnlyDictionary<string, double> Metrics { get; }
    public double? TrainLoss { get; }
    public double? ValidLoss { get; }
    public int Epoch { get; }
    public TimeSpan Elapsed { get; }

    public object? this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"An epoch record has no key '{key}'; its keys are {string.Join(", ", Keys)}.");
    public IEnumerable<string> Keys => _entries.Select(e => e.Key);
    public IEnumerable<object?> Values => _entries.Select(e => e.Value);
    public int Count => _entries.Length;
    public bool ContainsKey(string key) => _entries.Any(e => e.Key == key);

    public bool TryGetValue(string key, out object? value)
    {
        foreach (var entry in _entries)
            if (entry.Key == key) { value = entry.Value; return true; }
        value = null;
        return false;
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_entries).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The seed's printed form: <c>{'Accuracy': 0.558, 'train_loss': 1.87, ...}</c>.</summary>
    public override string ToString() => "{" + string.Join(", ", _entries.Select(e => $"'{e.Key}': {Format(e.Value)}")) + "}";

    private static string Format(object? value) => value switch
    {
        null => "None",
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        TimeSpan t => t.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
