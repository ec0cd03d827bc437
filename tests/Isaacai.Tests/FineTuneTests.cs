using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Models;
using Isaacai.Models.Vision;
using Isaacai.Schedules;
using Isaacai.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Isaacai.Tests;

/// <summary>Per-group learning rates in the optimizer, frozen parameters left alone, and fastai's fine_tune end to end.</summary>
public sealed class FineTuneTests() : TempFolderTests("isaacai-finetune-")
{
    private static Dictionary<string, Tensor> Snapshot(nn.Module model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

    /// <summary>The parameters of BatchNorm layers, by name: they stay trainable when the body is frozen.</summary>
    private static HashSet<string> BatchNormParameters(nn.Module model) =>
        model.named_modules().Where(m => m.module is BatchNorm)
             .SelectMany(m => m.module.named_parameters(recurse: false).Select(p => $"{m.name}.{p.name}")).ToHashSet();

    private static HashSet<string> HeadParameters(VisionModel model) =>
        model.named_parameters().Select(p => p.name).Where(n => n.StartsWith(model.Spec.Head + ".")).ToHashSet();

    [Theory]
    [InlineData("Adam")]
    [InlineData("AdamW")]
    [InlineData("SGD")]
    [InlineData("RMSprop")]
    public void Each_parameter_group_gets_its_rate_and_a_schedule_keeps_the_ratio(string optimizerName)
    {
        using var model = new VisionModel(new VisionModelOptions("mobilenet_v3_small", 3));
        using var optimizer = Optimizers.Create(Optimizers.FromName(optimizerName), model, 0.1, [0.01, 1]);
        var groups = optimizer.ParamGroups.ToList();
        Assert.Equal(2, groups.Count);
        Assert.Equal(0.001, groups[0].LearningRate, 12);
        Assert.Equal(0.1, groups[1].LearningRate, 12);
        Assert.Equal(model.parameters().Count(), optimizer.parameters().Count());
        OptimizerSettings.SetLr(optimizer, 0.5);
        Assert.Equal(0.005, groups[0].LearningRate, 12);
        Assert.Equal(0.5, groups[1].LearningRate, 12);
        Assert.Equal(0.5, OptimizerSettings.GetLr(optimizer), 12);

        // Both groups step: a second group made by add_param_group is one the optimizer can use.
        var before = Snapshot(model);
        using (var x = randn(2, 3, 32, 32))
        using (var loss = model.call(x).square().mean()) loss.backward();
        optimizer.step()?.Dispose();
        var after = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.False(TestData.Same(before["features.0.0.weight"], after["features.0.0.weight"]));
        Assert.False(TestData.Same(before["classifier.3.weight"], after["classifier.3.weight"]));
    }

    [Theory]
    [InlineData("Adam")]
    [InlineData("AdamW")]
    [InlineData("SGD")]
    [InlineData("RMSprop")]
    public void A_momentum_schedule_reaches_every_parameter_group_the_steps_read(string optimizerName)
    {
        using var model = new VisionModel(new VisionModelOptions("mobilenet_v3_small", 3));
        using var optimizer = Optimizers.Create(Optimizers.FromName(optimizerName), model, 0.1, [0.01, 1]);
        OptimizerSettings.SetMomentum(optimizer, 0.5);
        Assert.All(optimizer.ParamGroups, group => Assert.Equal(0.5, group switch
        {
            optim.IBetas betas => betas.Betas.Item1,
            optim.IMomentum momentum => momentum.Momentum,
            _ => double.NaN,
        }));
        Assert.Equal(0.5, OptimizerSettings.GetMomentum(optimizer));
    }

    [Fact]
    public void Frozen_parameters_are_not_in_the_optimizer_so_AdamW_weight_decay_cannot_move_them()
    {
        random.manual_seed(1);
        using var model = new VisionModel(new VisionModelOptions("resnet18", 3));
        model.Freeze();
        var frozen = model.named_parameters().Where(p => !p.parameter.requires_grad).Select(p => p.name).ToHashSet();
        Assert.NotEmpty(frozen);
        using var optimizer = Optimizers.Create((parameters, lr) => optim.AdamW(parameters, lr, weight_decay: 0.5), model, 0.01);
        Assert.DoesNotContain(optimizer.parameters(), p => !p.requires_grad);
        var before = Snapshot(model);
        for (int i = 0; i < 2; i++)
        {
            using var x = randn(2, 3, 32, 32);
            using var loss = model.call(x).square().mean();
            loss.backward();
            optimizer.step()?.Dispose();
            optimizer.zero_grad();
        }
        foreach (var (name, parameter) in model.named_parameters())
            Assert.True(frozen.Contains(name) == TestData.Same(before[name], parameter), $"'{name}' (frozen: {frozen.Contains(name)})");
    }

    [Fact]
    public void Multipliers_need_a_model_with_parameter_groups_and_one_per_group()
    {
        var linear = Assert.Throws<ArgumentException>(() => Optimizers.Create(Optimizers.Adam, nn.Linear(2, 2), 0.1, [0.1, 1]));
        Assert.Contains("parameter groups", linear.Message);
        using var model = new VisionModel(new VisionModelOptions("mobilenet_v3_small", 3));
        var count = Assert.Throws<ArgumentException>(() => Optimizers.Create(Optimizers.Adam, model, 0.1, [0.01, 0.1, 1]));
        Assert.Contains("3 learning-rate multiplier(s) for the 2 parameter groups of this model (body, head)", count.Message);
    }

    [Fact]
    public void EvenlySpread_is_fastais_slice_and_HeadAndTenths_its_slice_of_one_rate()
    {
        Assert.Equal([0.01, 1.0], FineTuning.EvenlySpread(0.01, 2));
        var three = FineTuning.EvenlySpread(0.01, 3);
        Assert.Equal(0.1, three[1], 12);
        Assert.Equal([0.1, 0.1, 1.0], FineTuning.HeadAndTenths(3));
    }

    /// <summary>Records, for each fit of the fine-tune, the parameters at its end and every train batch's group rates.</summary>
    private sealed class PhaseRecorder : Callback
    {
        public List<Dictionary<string, Tensor>> AtEndOfFit { get; } = [];
        public List<List<double[]>> GroupLrs { get; } = [];

        public override void BeforeFit(Trainer trainer) => GroupLrs.Add([]);

        // After the step of each batch (the step ran at the rates the schedule set before it).
        public override void AfterBatch(Trainer trainer)
        {
            if (trainer.Training) GroupLrs[^1].Add(trainer.Opt!.ParamGroups.Select(g => g.LearningRate).ToArray());
        }

        public override void AfterFit(Trainer trainer) => AtEndOfFit.Add(Snapshot(trainer.Model));
    }

    [Fact]
    public void Fine_tuning_a_resnet_on_Fashion_MNIST_trains_the_head_first_then_everything_at_discriminative_rates()
    {
        Isaac.SetSeed(42);
        var sample = FashionMnist.LoadSample();
        using var trainIndices = arange(64);
        using var validIndices = arange(32);
        var data = new DatasetDict { ["train"] = sample["train"].Select(trainIndices), ["test"] = sample["test"].Select(validIndices) };
        Assert.Equal([64L, 1, 28, 28], data["train"].Tensors().X.shape);
        var model = new VisionModel(new VisionModelOptions("resnet18", 10, InputChannels: 1));
        var metrics = new MetricsCB(("Accuracy", new Metrics.MulticlassAccuracy()));
        var trainer = new Trainer(DataLoaders.FromDatasetDict(data, 16), nn.CrossEntropyLoss(), Optimizers.Adam, model, [new BasicTrainCB(), metrics]);
        var recorder = new PhaseRecorder();
        var start = Snapshot(model);

        const double baseLr = 4e-3;
        trainer.FineTune(epochs: 1, baseLr: baseLr, freezeEpochs: 1, callbacks: [recorder]);

        Assert.Equal(2, recorder.AtEndOfFit.Count);
        var batchNorm = BatchNormParameters(model);
        var head = HeadParameters(model);
        var afterFrozen = recorder.AtEndOfFit[0];
        foreach (var (name, value) in afterFrozen)
        {
            bool moved = !TestData.Same(start[name], value);
            if (head.Contains(name) || batchNorm.Contains(name)) Assert.True(moved, $"'{name}' should have trained while the body was frozen");
            else Assert.False(moved, $"'{name}' is in the frozen body and should not have changed");
        }
        foreach (var (name, value) in recorder.AtEndOfFit[1])
            Assert.False(TestData.Same(afterFrozen[name], value), $"'{name}' should have trained once unfrozen");
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad)); // unfrozen after, as in fastai
        Assert.Null(trainer.LrMultipliers);

        // Frozen phase: body (its BatchNorm layers) at a tenth of the head's rate; one-cycle peaks at baseLr.
        var frozenLrs = recorder.GroupLrs[0];
        Assert.All(frozenLrs, lrs => Assert.Equal(0.1, lrs[0] / lrs[1], 9));
        Assert.InRange(frozenLrs.Max(lrs => lrs[1]), baseLr / 2, baseLr); // warm-up over 99% of 4 batches: short of the peak
        // Unfrozen: body at a hundredth of the head's rate throughout; the head peaks at baseLr / 2.
        var unfrozenLrs = recorder.GroupLrs[1];
        Assert.Equal(4, unfrozenLrs.Count); // 1 epoch of 4 batches
        Assert.All(unfrozenLrs, lrs => Assert.Equal(0.01, lrs[0] / lrs[1], 9));
        Assert.InRange(unfrozenLrs.Max(lrs => lrs[1]), baseLr / 2 * 0.8, baseLr / 2);
        Assert.Single(metrics.Records); // the record of the last fit, the unfrozen phase
        Assert.All(metrics.Records, r => Assert.True(double.IsFinite(r.TrainLoss ?? double.NaN)));
    }

    /// <summary>A small model with a body (Linear, BatchNorm, ReLU) and a head (Linear), for the engine's own tests.</summary>
    private sealed class TwoPart : nn.Module<Tensor, Tensor>, IHasParameterGroups
    {
        private readonly Sequential body = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU());
        private readonly Linear head = nn.Linear(16, 3);

        public TwoPart() : base(nameof(TwoPart)) => RegisterComponents();

        public IReadOnlyList<ParameterGroup> ParameterGroups => [new("body", [body]), new("head", [head])];

        public override Tensor forward(Tensor x) => head.call(body.call(x));
    }

    [Fact]
    public void A_fit_at_discriminative_rates_with_a_frozen_body_resumes_from_a_checkpoint_bit_for_bit()
    {
        Trainer Make(long seed, string path, params Callback[] extra)
        {
            Isaac.SetSeed(seed);
            var model = new TwoPart();
            Freezing.Freeze(model);
            return new Trainer(DataLoaders.FromDatasetDict(TestData.Synthetic(train: 40, valid: 12), 8), nn.CrossEntropyLoss(), Optimizers.Adam, model,
                [new BasicTrainCB(), new MetricsCB(), new OneCycleCB(0.05), new CheckpointCB(path), .. extra]) { LrMultipliers = [0.1, 1] };
        }
        var straight = Make(1, PathOf("straight.isaacckpt"));
        Isaac.SetSeed(100);
        straight.Fit(4);
        var killed = Make(1, PathOf("run.isaacckpt"), new KillAfterEpoch(1) { Order = 30 });
        Isaac.SetSeed(100);
        killed.Fit(4);
        var resumed = Make(7, PathOf("resumed.isaacckpt"));
        using (var checkpoint = Checkpoints.Checkpoint.Load(PathOf("run.isaacckpt")))
        {
            Isaac.SetSeed(5);
            resumed.Fit(4, resume: checkpoint);
        }
        Assert.Equal(2, resumed.Opt!.ParamGroups.Count()); // the body's BatchNorm and the head
        Assert.Equal(0.1, resumed.Opt.ParamGroups.First().LearningRate / resumed.Opt.ParamGroups.Last().LearningRate, 9);
        foreach (var (key, tensor) in straight.Model.state_dict())
            Assert.True(TestData.Same(tensor, resumed.Model.state_dict()[key]), $"'{key}' equal bit for bit");
    }

    [Fact]
    public void Fine_tuning_needs_a_body_and_a_head_and_its_own_one_cycle()
    {
        var plain = TestData.Trainer();
        var error = Assert.Throws<ArgumentException>(() => plain.FineTune(1));
        Assert.Contains("body and a head", error.Message);
        var model = new VisionModel(new VisionModelOptions("mobilenet_v3_small", 3));
        var withOneCycle = new Trainer(plain.Dls, plain.LossFunc, plain.OptFunc, model, [new BasicTrainCB(), new OneCycleCB(0.1)]);
        Assert.Throws<InvalidOperationException>(() => withOneCycle.FineTune(1));
    }
}
