using Isaacai.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Isaacai.Tests;

/// <summary>Small synthetic data and trainers, so hook traces run in milliseconds.</summary>
internal static class TestData
{
    /// <summary>A split that holds its samples as tensors, as every split of a table or Fashion-MNIST does.</summary>
    public static TensorDataset Tensors(this IDataset split) => Assert.IsType<TensorDataset>(split);

    /// <summary>A linearly separable 3-class problem in 4 features.</summary>
    public static DatasetDict Synthetic(int train = 10, int valid = 6, long seed = 7)
    {
        using var generator = new Generator((ulong)seed);
        TensorDataset Make(int n)
        {
            var x = randn([n, 4], generator: generator);
            var y = x.narrow(1, 0, 3).argmax(1);
            return new TensorDataset(x, y);
        }
        return new DatasetDict { ["train"] = Make(train), ["test"] = Make(valid) };
    }

    /// <summary>Same shape and every element bit-equal.</summary>
    public static bool Same(Tensor a, Tensor b)
    {
        using var equal = a.eq(b);
        using var all = equal.all();
        return a.shape.SequenceEqual(b.shape) && all.item<bool>();
    }

    public static Trainer Trainer(int batchSize = 4, params Callback[] callbacks) =>
        new(DataLoaders.FromDatasetDict(Synthetic(), batchSize), nn.CrossEntropyLoss(), Optimizers.SGD, nn.Linear(4, 3), callbacks, lr: 0.1);
}

/// <summary>Tests that write files: each test gets a new temporary folder (xunit makes a test class per test), deleted after it.</summary>
public abstract class TempFolderTests(string prefix) : IDisposable
{
    protected string Folder { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    protected string PathOf(string name) => Path.Combine(Folder, name);

    protected string[] Files() => Directory.GetFiles(Folder);

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

/// <summary>Ends the fit after the valid phase of <paramref name="epoch"/>, as a kill would (after that epoch's checkpoint).</summary>
internal sealed class KillAfterEpoch(int epoch) : Callback
{
    public override void AfterEpoch(Trainer trainer) { if (trainer.Epoch == epoch && !trainer.Training) throw new CancelFitException(); }
}

/// <summary>Records every hook it sees; can throw at the n-th call of one hook.</summary>
internal sealed class TraceCB(List<string> trace, string label = "") : Callback
{
    public Hook? ThrowAt { get; init; }
    public int ThrowOnCall { get; init; } = 1;
    public Func<Exception>? Exception { get; init; }
    public Action<Hook, Trainer>? OnHook { get; init; }
    private int _calls;

    public override bool Implements(Hook hook) => true;

    private void Record(Hook hook, Trainer trainer)
    {
        trace.Add(HookNames.ToSeedName(hook) + label);
        OnHook?.Invoke(hook, trainer);
        if (hook == ThrowAt && ++_calls == ThrowOnCall) throw Exception!();
    }

    public override void BeforeFit(Trainer t) => Record(Hook.BeforeFit, t);
    public override void AfterFit(Trainer t) => Record(Hook.AfterFit, t);
    public override void CleanupFit(Trainer t) => Record(Hook.CleanupFit, t);
    public override void BeforeEpoch(Trainer t) => Record(Hook.BeforeEpoch, t);
    public override void AfterEpoch(Trainer t) => Record(Hook.AfterEpoch, t);
    public override void CleanupEpoch(Trainer t) => Record(Hook.CleanupEpoch, t);
    public override void BeforeBatch(Trainer t) => Record(Hook.BeforeBatch, t);
    public override void Predict(Trainer t) => Record(Hook.Predict, t);
    public override void GetLoss(Trainer t) => Record(Hook.GetLoss, t);
    public override void BeforeBackward(Trainer t) => Record(Hook.BeforeBackward, t);
    public override void Backward(Trainer t) => Record(Hook.Backward, t);
    public override void Step(Trainer t) => Record(Hook.Step, t);
    public override void ZeroGrad(Trainer t) => Record(Hook.ZeroGrad, t);
    public override void AfterBatch(Trainer t) => Record(Hook.AfterBatch, t);
    public override void CleanupBatch(Trainer t) => Record(Hook.CleanupBatch, t);
}
