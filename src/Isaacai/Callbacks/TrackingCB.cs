namespace Isaacai.Callbacks;

/// <summary>Keeps every batch's loss, and each epoch's mean train and valid loss, for plotting or inspection.</summary>
public class TrackingCB : Callback
{
    private readonly List<double> _trainLosses = [], _validLosses = [], _epochTrainLosses = [], _epochValidLosses = [];
    private int _epochStart;

    public IReadOnlyList<double> TrainLosses => _trainLosses;
    public IReadOnlyList<double> ValidLosses => _validLosses;
    public IReadOnlyList<double> EpochTrainLosses => _epochTrainLosses;
    public IReadOnlyList<double> EpochValidLosses => _epochValidLosses;

    public override void BeforeFit(Trainer trainer)
    {
        foreach (var list in new[] { _trainLosses, _validLosses, _epochTrainLosses, _epochValidLosses }) list.Clear();
    }

    public override void BeforeEpoch(Trainer trainer) => _epochStart = (trainer.Training ? _trainLosses : _validLosses).Count;

    public override void AfterBatch(Trainer trainer) => (trainer.Training ? _trainLosses : _validLosses).Add(trainer.Loss!.item<float>());

    public override void AfterEpoch(Trainer trainer)
    {
        var losses = trainer.Training ? _trainLosses : _validLosses;
        var epochLosses = losses.Skip(_epochStart).ToList();
        (trainer.Training ? _epochTrainLosses : _epochValidLosses).Add(epochLosses.Count == 0 ? double.NaN : epochLosses.Average());
    }
}
