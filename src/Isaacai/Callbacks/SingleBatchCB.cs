namespace Isaacai.Callbacks;

/// <summary>Stops the fit after the first batch: a quick check that the loop runs end to end.</summary>
public class SingleBatchCB : Callback
{
    public SingleBatchCB() => Order = 1;

    public override void AfterBatch(Trainer trainer) => throw new CancelFitException();
}
