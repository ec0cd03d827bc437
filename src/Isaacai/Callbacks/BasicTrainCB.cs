namespace Isaacai.Callbacks;

/// <summary>The plain training step: predict, loss, backward, step, zero the gradients.</summary>
public class BasicTrainCB : Callback
{
    public override void Predict(Trainer trainer) => trainer.Preds = trainer.Model.call(trainer.Batch![0]);
    public override void GetLoss(Trainer trainer) => trainer.Loss = trainer.LossFunc.call(trainer.Preds!, trainer.Batch![1]);
    public override void Backward(Trainer trainer) => trainer.Loss!.backward();
    public override void Step(Trainer trainer) => trainer.Opt!.step()?.Dispose();
    public override void ZeroGrad(Trainer trainer) => trainer.Opt!.zero_grad();
}
