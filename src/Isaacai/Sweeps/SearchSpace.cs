namespace Isaacai.Sweeps;

/// <summary>How a sweep picks its trials' parameters.</summary>
public enum SweepStrategy { Random, Grid }

/// <summary>One trial to run: its number, the torch seed it starts from and its parameters.</summary>
public sealed record TrialSpec(int Number, int Seed, IReadOnlyDictionary<string, object> Parameters);

/// <summary>
/// Named parameter ranges. Names are kept in ordinal order, so the draws a seed gives do not depend on the
/// order a hashtable listed them in.
/// </summary>
public sealed class SearchSpace
{
    private readonly SortedDictionary<string, ParameterRange> _ranges = new(StringComparer.Ordinal);

    public SearchSpace(IEnumerable<KeyValuePair<string, ParameterRange>> ranges)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, range) in ranges)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A parameter of the search space has no name.", nameof(ranges));
            if (!seen.Add(name)) throw new ArgumentException($"The search space names '{name}' twice (names are case-insensitive).", nameof(ranges));
            _ranges[name] = range ?? throw new ArgumentNullException(nameof(ranges), $"Parameter '{name}' has no range.");
        }
        if (_ranges.Count == 0) throw new ArgumentException("The search space is empty: name at least one parameter and its values.", nameof(ranges));
    }

    public IReadOnlyDictionary<string, ParameterRange> Ranges => _ranges;

    /// <summary>
    /// The trials of a sweep. Random: trial i's parameters and torch seed depend only on the seed and i, so a
    /// sweep of more trials begins with the same ones. Grid: every combination in order (the last name varies
    /// fastest), the first <paramref name="trials"/> of them if given, each with its own torch seed.
    /// </summary>
    public IReadOnlyList<TrialSpec> Plan(SweepStrategy strategy, int? trials, int seed)
    {
        if (trials is < 1) throw new ArgumentOutOfRangeException(nameof(trials), trials, "A sweep needs at least 1 trial.");
        if (strategy == SweepStrategy.Random)
        {
            if (trials is not { } count) throw new ArgumentException("A random sweep needs a number of trials.", nameof(trials));
            return Enumerable.Range(0, count).Select(number =>
            {
                var random = SweepRandom.ForTrial(seed, number);
                var parameters = _ranges.ToDictionary(r => r.Key, r => r.Value.Sample(random), StringComparer.OrdinalIgnoreCase);
                return new TrialSpec(number, random.NextSeed(), Ordered(parameters));
            }).ToArray();
        }
        var grid = Grid();
        return grid.Take(trials ?? grid.Count)
            .Select((parameters, number) => new TrialSpec(number, SweepRandom.ForTrial(seed, number).NextSeed(), parameters)).ToArray();
    }

    private List<IReadOnlyDictionary<string, object>> Grid()
    {
        var axes = _ranges.Select(r => (r.Key, Points: r.Value.GridPoints())).ToArray();
        long size = axes.Aggregate(1L, (n, axis) => checked(n * axis.Points.Count));
        if (size > 1_000_000) throw new ArgumentException($"The grid has {size:N0} points; a grid search takes at most 1,000,000. Use fewer values or a random search.");
        var points = new List<IReadOnlyDictionary<string, object>>((int)size);
        var index = new int[axes.Length];
        for (long n = 0; n < size; n++)
        {
            points.Add(Ordered(axes.Select((axis, i) => KeyValuePair.Create(axis.Key, axis.Points[index[i]]))));
            for (int i = axes.Length - 1; i >= 0 && ++index[i] == axes[i].Points.Count; i--) index[i] = 0;
        }
        return points;
    }

    private static IReadOnlyDictionary<string, object> Ordered(IEnumerable<KeyValuePair<string, object>> values)
    {
        var ordered = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var (name, value) in values) ordered[name] = value;
        return ordered;
    }

    /// <summary>One line per parameter, <c>name: range</c>, in order: what a journal compares.</summary>
    public override string ToString() => string.Join("; ", _ranges.Select(r => $"{r.Key}: {r.Value}"));
}
