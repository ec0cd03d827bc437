using Isaacai.Callbacks;
using static TorchSharp.torch;

namespace Isaacai.Tests;

public class ResourceTests
{
    private sealed class NoOpCB : Callback
    {
        public override void Predict(Trainer trainer) { }
        public override void GetLoss(Trainer trainer) { }
        public override void Backward(Trainer trainer) { }
        public override void Step(Trainer trainer) { }
        public override void ZeroGrad(Trainer trainer) { }
        public override void AfterBatch(Trainer trainer) { }
    }

    [Fact]
    public void Dispatching_hooks_allocates_nothing()
    {
        var trainer = TestData.Trainer(4, new NoOpCB { Order = 1 }, new NoOpCB(), new NoOpCB { Order = -1 });
        trainer.RunCallbacks(Hook.Predict); // builds the table once
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            trainer.RunCallbacks(Hook.Predict, Hook.GetLoss, Hook.BeforeBackward, Hook.Backward, Hook.Step, Hook.ZeroGrad, Hook.AfterBatch);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Every_tensor_a_batch_makes_is_disposed_when_the_batch_ends()
    {
        var kept = new List<Tensor>();
        var probe = new TraceCB([]) { Order = 1, OnHook = (hook, t) =>
        {
            if (hook == Hook.AfterBatch) kept.AddRange([t.Batch!.X, t.Batch.Y, t.Preds!, t.Loss!]);
        } };
        var trainer = TestData.Trainer(4, new BasicTrainCB(), new MetricsCB(), probe);
        trainer.Fit(2);
        Assert.Equal(2 * (3 + 2) * 4, kept.Count);
        Assert.All(kept, tensor => Assert.True(tensor.IsInvalid, "a per-batch tensor outlived its batch"));
        Assert.All(trainer.Model.parameters(), p => Assert.False(p.IsInvalid)); // the model's own tensors live on
        Assert.False(trainer.Dls.Train.Dataset.Tensors().X.IsInvalid);
    }
}
