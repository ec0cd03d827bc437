namespace Isaacai;

/// <summary>How the engine tells a host about a fit, without knowing what the host is.</summary>
public interface ITrainingReporter
{
    /// <summary>An epoch finished; called as it ends, not at the end of the fit.</summary>
    void EpochCompleted(EpochRecord record);

    void Progress(TrainingProgress progress);
}

/// <summary>Where the loop is: <paramref name="Completed"/> of <paramref name="Total"/> at one level.</summary>
public readonly record struct TrainingProgress(LoopLevel Level, int Completed, int Total, string Activity);

public sealed class NullTrainingReporter : ITrainingReporter
{
    public static readonly NullTrainingReporter Instance = new();
    private NullTrainingReporter() { }
    public void EpochCompleted(EpochRecord record) { }
    public void Progress(TrainingProgress progress) { }
}
