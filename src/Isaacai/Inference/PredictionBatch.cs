using Isaacai.Data;

namespace Isaacai.Inference;

/// <summary>
/// A batch's predictions as <see cref="Predictor.DecodeBatch"/> reads them from the model's outputs, held as arrays
/// with no object per sample: each sample's class, its probability and every class's, or its number in the target's
/// units, or its raw outputs. Many rows' predictions (a file's, a pipeline's) are read from here;
/// <see cref="this[int]"/> makes one sample's <see cref="Prediction"/>.
/// </summary>
public sealed class PredictionBatch
{
    private readonly TargetSpec? _target;
    /// <summary><see cref="Count"/> samples of <see cref="Width"/> values, sample after sample.</summary>
    private readonly double[] _values;
    /// <summary>Each sample's class (classification only).</summary>
    private readonly int[]? _best;

    internal PredictionBatch(TargetSpec? target, int count, int width, double[] values, int[]? best)
    {
        (_target, Count, Width, _values, _best) = (target, count, width, values, best);
    }

    public int Count { get; }

    /// <summary>Values per sample: the class probabilities, or one number, or the model's raw outputs.</summary>
    public int Width { get; }

    /// <summary>The sample's class index (classification); null otherwise.</summary>
    public int? ClassIndex(int sample) => _best?[sample];

    /// <summary>The probability of the sample's class (classification); null otherwise.</summary>
    public double? Probability(int sample) => _best is null ? null : _values[sample * Width + _best[sample]];

    /// <summary>The sample's class label (shared by the samples of that class), number in the target's units, or raw outputs (a copy).</summary>
    public object Value(int sample) => _target switch
    {
        { Task: TaskKind.Classification } target => target.Label(_best![sample]),
        { Task: TaskKind.Regression } => _values[sample],
        _ => Values(sample).ToArray(),
    };

    /// <summary>The sample's values: its class probabilities in class order, its number, or its raw outputs.</summary>
    public ReadOnlyMemory<double> Values(int sample) => _values.AsMemory(sample * Width, Width);

    /// <summary>One sample's prediction as an object of its own, with its class probabilities by name.</summary>
    public Prediction this[int sample]
    {
        get
        {
            if (_target is not { Task: TaskKind.Classification } target) return new Prediction(Value(sample));
            var byClass = new Dictionary<string, double>(Width);
            var probabilities = Values(sample).Span;
            for (int c = 0; c < Width; c++) byClass[target.Classes[c]] = probabilities[c];
            return new Prediction(Value(sample), _best![sample], Probability(sample), byClass);
        }
    }
}
