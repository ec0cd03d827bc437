namespace Isaacai.Interpretation;

/// <summary>
/// How often each actual class was predicted as each class: <c>this[actual, predicted]</c> counts samples, so
/// the diagonal holds the right predictions, and each row sums to the samples of that actual class.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[,] _counts;

    public ConfusionMatrix(IReadOnlyList<string> classes, long[,] counts)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(counts);
        if (counts.GetLength(0) != classes.Count || counts.GetLength(1) != classes.Count)
            throw new ArgumentException($"A confusion matrix of {classes.Count} classes is {classes.Count}×{classes.Count}; got {counts.GetLength(0)}×{counts.GetLength(1)} counts.", nameof(counts));
        Classes = classes.ToArray();
        _counts = (long[,])counts.Clone();
    }

    /// <summary>Class names by index: the rows (actual) and the columns (predicted).</summary>
    public IReadOnlyList<string> Classes { get; }

    public long this[int actual, int predicted] => _counts[actual, predicted];

    /// <summary>All the samples counted.</summary>
    public long Total => _counts.Cast<long>().Sum();

    /// <summary>A copy of the counts, rows actual and columns predicted.</summary>
    public long[,] ToArray() => (long[,])_counts.Clone();

    /// <summary>Every cell as a row, actual by actual and within it predicted by predicted; with <paramref name="nonZeroOnly"/>, the cells that counted a sample.</summary>
    public IReadOnlyList<ConfusionRow> Rows(bool nonZeroOnly = false)
    {
        var rows = new List<ConfusionRow>();
        for (int actual = 0; actual < Classes.Count; actual++)
            for (int predicted = 0; predicted < Classes.Count; predicted++)
                if (!nonZeroOnly || _counts[actual, predicted] > 0)
                    rows.Add(new ConfusionRow(Classes[actual], Classes[predicted], _counts[actual, predicted]));
        return rows;
    }

    /// <summary>
    /// fastai's <c>most_confused</c>: the wrong (off-diagonal) pairs counted at least <paramref name="minCount"/>
    /// times, most frequent first; ties in class order.
    /// </summary>
    public IReadOnlyList<ConfusionRow> MostConfused(long minCount = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minCount, 1);
        var pairs = new List<(int Actual, int Predicted)>();
        for (int actual = 0; actual < Classes.Count; actual++)
            for (int predicted = 0; predicted < Classes.Count; predicted++)
                if (actual != predicted && _counts[actual, predicted] >= minCount) pairs.Add((actual, predicted));
        return pairs.OrderByDescending(p => _counts[p.Actual, p.Predicted]).ThenBy(p => p.Actual).ThenBy(p => p.Predicted)
            .Select(p => new ConfusionRow(Classes[p.Actual], Classes[p.Predicted], _counts[p.Actual, p.Predicted])).ToList();
    }

    public override string ToString() => $"ConfusionMatrix({Classes.Count} classes, {Total} samples)";
}

/// <summary>One cell of a confusion matrix: how many samples of class <see cref="Actual"/> were predicted as <see cref="Predicted"/>.</summary>
public sealed record ConfusionRow(string Actual, string Predicted, long Count);
