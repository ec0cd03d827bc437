namespace Isaacai.Plots;

/// <summary>Which record of a fit <see cref="TrainingPlots.Save(Trainer, PlotKind, string, int, int)"/> draws.</summary>
public enum PlotKind
{
    /// <summary>Train loss per batch and valid loss per epoch, from <see cref="Callbacks.TrackingCB"/>.</summary>
    Loss,

    /// <summary>Metrics and losses per epoch, from <see cref="Callbacks.MetricsCB"/> (or TrackingCB's epochs).</summary>
    Metrics,

    /// <summary>The learning rate of each train batch, from <see cref="Callbacks.TrackingCB"/>.</summary>
    LearningRate,
}
