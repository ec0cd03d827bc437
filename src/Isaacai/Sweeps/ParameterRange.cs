using System.Globalization;

namespace Isaacai.Sweeps;

/// <summary>The values one hyperparameter takes in a sweep: drawn at random, or laid out as a grid.</summary>
public abstract class ParameterRange
{
    /// <summary>One value, drawn with <paramref name="random"/>.</summary>
    public abstract object Sample(SweepRandom random);

    /// <summary>The values a grid search visits, in order.</summary>
    public abstract IReadOnlyList<object> GridPoints();

    /// <summary>A canonical text (<c>loguniform(0.0001, 0.1)</c>): a journal compares it to tell whether it was written by the same sweep.</summary>
    public abstract override string ToString();

    protected static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A list of values to choose from: numbers, strings or booleans.</summary>
public sealed class ChoiceRange : ParameterRange
{
    public ChoiceRange(IEnumerable<object> values)
    {
        Values = values.ToArray();
        if (Values.Count == 0) throw new ArgumentException("A choice needs at least one value.", nameof(values));
        var unsupported = Values.FirstOrDefault(v => v is not (string or bool or int or long or double));
        if (unsupported is not null)
            throw new ArgumentException($"A choice holds numbers (int, long, double), strings or booleans, which a journal can record; {unsupported} is a {unsupported.GetType().FullName}.", nameof(values));
    }

    public IReadOnlyList<object> Values { get; }

    public override object Sample(SweepRandom random) => Values[random.NextInt(Values.Count)];
    public override IReadOnlyList<object> GridPoints() => Values;

    public override string ToString() => "choice(" + string.Join(", ", Values.Select(v => v switch
    {
        string s => "'" + s + "'",
        double d => Format(d),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture),
    })) + ")";
}

/// <summary>
/// A real number between <see cref="Low"/> and <see cref="High"/>, evenly (or, <see cref="Log"/>, evenly in its
/// logarithm, for learning rates and weight decays); a grid takes <see cref="Steps"/> points from Low to High.
/// </summary>
public sealed class RealRange : ParameterRange
{
    public RealRange(double low, double high, bool log = false, int steps = 0)
    {
        if (!double.IsFinite(low) || !double.IsFinite(high) || !(low < high))
            throw new ArgumentOutOfRangeException(nameof(high), $"A range needs finite bounds with low < high; got {Format(low)} and {Format(high)}.");
        if (log && !(low > 0)) throw new ArgumentOutOfRangeException(nameof(low), low, $"A log-uniform range needs a low bound above 0; got {Format(low)}.");
        if (steps is < 0 or 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "Steps, the points a grid takes from such a range, must be 2 or more (or 0: the range has no grid).");
        (Low, High, Log, Steps) = (low, high, log, steps);
    }

    public double Low { get; }
    public double High { get; }
    public bool Log { get; }
    public int Steps { get; }

    public override object Sample(SweepRandom random) => At(random.NextDouble());

    public override IReadOnlyList<object> GridPoints() => Steps >= 2
        ? Enumerable.Range(0, Steps).Select(i => (object)(i == Steps - 1 ? High : At((double)i / (Steps - 1)))).ToArray()
        : throw new InvalidOperationException($"A grid search needs a number of points for the range {this}: give it Steps (2 or more), or a list of values.");

    private double At(double fraction) => Log
        ? Math.Exp(Math.Log(Low) + fraction * (Math.Log(High) - Math.Log(Low)))
        : Low + fraction * (High - Low);

    public override string ToString() => $"{(Log ? "loguniform" : "uniform")}({Format(Low)}, {Format(High)}{(Steps > 0 ? $", steps {Steps}" : "")})";
}

/// <summary>An integer from <see cref="Low"/> to <see cref="High"/>, both included; a grid visits every one.</summary>
public sealed class IntegerRange : ParameterRange
{
    public IntegerRange(int low, int high)
    {
        if (low > high) throw new ArgumentOutOfRangeException(nameof(high), $"An integer range needs low <= high; got {low} and {high}.");
        if ((long)high - low >= int.MaxValue) throw new ArgumentOutOfRangeException(nameof(high), $"An integer range holds at most {int.MaxValue} values; {low} to {high} holds more.");
        (Low, High) = (low, high);
    }

    public int Low { get; }
    public int High { get; }

    public override object Sample(SweepRandom random) => Low + random.NextInt(High - Low + 1);
    public override IReadOnlyList<object> GridPoints() => Enumerable.Range(Low, High - Low + 1).Cast<object>().ToArray();
    public override string ToString() => $"integer({Low}, {High})";
}
