namespace Isaacai.Callbacks;

/// <summary>Reports progress of the fit, each epoch and each batch to the trainer's reporter.</summary>
public class ProgressCB : Callback
{
    public ProgressCB() => Order = 100;

    public override void BeforeEpoch(Trainer trainer) =>
        trainer.Reporter.Progress(new TrainingProgress(LoopLevel.Fit, trainer.Epoch, trainer.NEpochs, $"Epoch {trainer.Epoch + 1} of {trainer.NEpochs}"));

    public override void AfterBatch(Trainer trainer) =>
        trainer.Reporter.Progress(new TrainingProgress(LoopLevel.Batch, trainer.Iter + 1, trainer.Dl!.BatchCount, trainer.Training ? "train" : "valid"));

    public override void CleanupFit(Trainer trainer) =>
        trainer.Reporter.Progress(new TrainingProgress(LoopLevel.Fit, trainer.NEpochs, trainer.NEpochs, "Done"));
}
