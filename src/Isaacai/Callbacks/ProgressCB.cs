namespace Isaacai.Callbacks;

/// <summary>Reports progress to the trainer's reporter at three levels: epochs of the fit, phases of an epoch, batches of a phase.</summary>
public class ProgressCB : Callback
{
    public ProgressCB() => Order = 100;

    public override void BeforeEpoch(Trainer trainer)
    {
        bool firstPhase = trainer.FirstPhaseOfEpoch;
        if (firstPhase)
            trainer.Reporter.Progress(new TrainingProgress(LoopLevel.Fit, trainer.Epoch, trainer.NEpochs, $"Epoch {trainer.Epoch + 1} of {trainer.NEpochs}"));
        int phases = (trainer.FitsTrain ? 1 : 0) + (trainer.FitsValid ? 1 : 0);
        trainer.Reporter.Progress(new TrainingProgress(LoopLevel.Epoch, firstPhase ? 0 : 1, phases, trainer.Training ? "train" : "valid"));
    }

    public override void AfterBatch(Trainer trainer) =>
        trainer.Reporter.Progress(new TrainingProgress(LoopLevel.Batch, trainer.Iter + 1, trainer.Dl!.BatchCount, trainer.Training ? "train" : "valid"));

    public override void CleanupFit(Trainer trainer) =>
        trainer.Reporter.Progress(new TrainingProgress(LoopLevel.Fit, trainer.NEpochs, trainer.NEpochs, "Done"));
}
