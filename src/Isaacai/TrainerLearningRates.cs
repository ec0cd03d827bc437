namespace Isaacai;

public partial class Trainer
{
    private IReadOnlyList<double>? _lrMultipliers;

    /// <summary>
    /// Discriminative learning rates: one multiplier of the fit's rate per parameter group of the model
    /// (<see cref="Models.IHasParameterGroups"/>, body first, head last), or null for one rate for every parameter.
    /// Read when a fit makes its optimizer; <see cref="Training.FineTuning"/> sets it for each phase.
    /// </summary>
    public IReadOnlyList<double>? LrMultipliers
    {
        get => _lrMultipliers;
        set
        {
            if (value is not null && (value.Count == 0 || value.Any(m => !(m > 0 && double.IsFinite(m)))))
                throw new ArgumentOutOfRangeException(nameof(value), "Learning-rate multipliers must be one or more positive finite numbers.");
            _lrMultipliers = value?.ToArray();
        }
    }
}
