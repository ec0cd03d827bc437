namespace Isaacai.Plots;

/// <summary>What <see cref="TrainingPlots.Save(Trainer, PlotKind, string, int, int, int)"/> draws: a record of the last fit, or how the model does on the valid split.</summary>
public enum PlotKind
{
    /// <summary>Train loss per batch and valid loss per epoch, from <see cref="Callbacks.TrackingCB"/>.</summary>
    Loss,

    /// <summary>Metrics and losses per epoch, from <see cref="Callbacks.MetricsCB"/> (or TrackingCB's epochs).</summary>
    Metrics,

    /// <summary>The learning rate of each train batch, from <see cref="Callbacks.TrackingCB"/>.</summary>
    LearningRate,

    /// <summary>The valid split's confusion matrix, from a pass of the model over it (<see cref="Interpretation.ClassificationInterpretation"/>).</summary>
    ConfusionMatrix,

    /// <summary>The valid samples of highest loss as a grid of their images, from a pass of the model over the split.</summary>
    TopLosses,
}
