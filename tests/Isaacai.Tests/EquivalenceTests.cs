using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Models;
using static TorchSharp.torch;

namespace Isaacai.Tests;

public class EquivalenceTests
{
    // With TorchSharp's own Adam and with the default (flat, fused) one: both round as TorchSharp's operations do.
    [Theory]
    [InlineData("TorchSharp.Adam")]
    [InlineData("Adam")]
    public void One_epoch_of_the_trainer_equals_a_hand_written_loop_bit_for_bit(string optimizer)
    {
        var data = TestData.Synthetic(train: 50, valid: 10);
        const int batchSize = 8;

        Isaac.SetSeed(3);
        using var viaTrainer = new SimpleNet(4, 16, 3);
        new Trainer(DataLoaders.FromDatasetDict(data, batchSize), nn.CrossEntropyLoss(), Optimizers.FromName(optimizer), viaTrainer, [new BasicTrainCB()], lr: 0.01).Fit(1);

        Isaac.SetSeed(3);
        using var byHand = new SimpleNet(4, 16, 3);
        using (var loss = nn.CrossEntropyLoss())
        using (var opt = optim.Adam(byHand.parameters(), 0.01))
        using (var permutation = randperm(50))
        {
            byHand.train();
            for (long start = 0; start < 50; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var indices = permutation.narrow(0, start, Math.Min(batchSize, 50 - start));
                loss.call(byHand.call(data["train"].Tensors().X.index_select(0, indices)), data["train"].Tensors().Y.index_select(0, indices)).backward();
                opt.step();
                opt.zero_grad();
            }
        }

        var a = viaTrainer.parameters().ToArray();
        var b = byHand.parameters().ToArray();
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(TestData.Same(a[i], b[i]), $"parameter {i} differs: max difference {(a[i] - b[i]).abs().max().item<float>()}");
        using var initial = new SimpleNet(4, 16, 3);
        Assert.False(TestData.Same(initial.parameters().First(), a[0])); // training moved the weights
    }

    [Fact]
    public void Set_seed_makes_a_whole_fit_reproducible()
    {
        string Run()
        {
            Isaac.SetSeed(11);
            var metrics = new MetricsCB(("Accuracy", new Isaacai.Metrics.MulticlassAccuracy()));
            new Trainer(DataLoaders.FromDatasetDict(TestData.Synthetic(40, 12), 5), nn.CrossEntropyLoss(), Optimizers.Adam, new SimpleNet(4, 8, 3), [new BasicTrainCB(), metrics], 0.05).Fit(2);
            return string.Join(";", metrics.Records.Select(r => $"{r.TrainLoss:R},{r.ValidLoss:R},{r.Metrics["Accuracy"]:R}"));
        }
        Assert.Equal(Run(), Run());
    }
}
