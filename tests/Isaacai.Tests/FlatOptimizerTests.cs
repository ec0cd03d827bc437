using Isaacai.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Flat = Isaacai.Optimization;

namespace Isaacai.Tests;

/// <summary>
/// The optimizers of Optimization/ against TorchSharp's own: the same model, data and settings, many steps, and the
/// weights compared bit for bit: SGD runs TorchSharp's operations on whole groups, Adam and AdamW the fused kernel,
/// which rounds as TorchSharp's operations do.
/// </summary>
public class FlatOptimizerTests
{
    private const int Steps = 150;

    public static TheoryData<string> Settings => ["Adam", "Adam wd", "Adam amsgrad", "Adam maximize", "AdamW wd", "AdamW amsgrad", "SGD", "SGD momentum", "SGD nesterov wd", "SGD dampening maximize"];

    private static (optim.Optimizer Flat, optim.Optimizer TorchSharp) Make(string setting, IEnumerable<Parameter> flat, IEnumerable<Parameter> reference) => setting switch
    {
        "Adam" => (new Flat.Adam(flat, 0.01), optim.Adam(reference, 0.01)),
        "Adam wd" => (new Flat.Adam(flat, 0.01, weight_decay: 0.1), optim.Adam(reference, 0.01, weight_decay: 0.1)),
        "Adam amsgrad" => (new Flat.Adam(flat, 0.01, amsgrad: true), optim.Adam(reference, 0.01, amsgrad: true)),
        "Adam maximize" => (new Flat.Adam(flat, 0.001, maximize: true), optim.Adam(reference, 0.001, maximize: true)),
        "AdamW wd" => (new Flat.AdamW(flat, 0.01, weight_decay: 0.1), optim.AdamW(reference, 0.01, weight_decay: 0.1)),
        "AdamW amsgrad" => (new Flat.AdamW(flat, 0.01, weight_decay: 0.01, amsgrad: true), optim.AdamW(reference, 0.01, weight_decay: 0.01, amsgrad: true)),
        "SGD" => (new Flat.SGD(flat, 0.1), optim.SGD(reference, 0.1)),
        "SGD momentum" => (new Flat.SGD(flat, 0.05, momentum: 0.9), optim.SGD(reference, 0.05, momentum: 0.9)),
        "SGD nesterov wd" => (new Flat.SGD(flat, 0.05, momentum: 0.9, weight_decay: 0.01, nesterov: true), optim.SGD(reference, 0.05, momentum: 0.9, weight_decay: 0.01, nesterov: true)),
        "SGD dampening maximize" => (new Flat.SGD(flat, 0.001, momentum: 0.8, dampening: 0.3, maximize: true), optim.SGD(reference, 0.001, momentum: 0.8, dampening: 0.3, maximize: true)),
        _ => throw new ArgumentException(setting),
    };

    /// <summary>Two identical models, each trained by one of the optimizers <paramref name="make"/> returns; their weights are compared.</summary>
    private static void AssertSameTraining(Func<IEnumerable<Parameter>, IEnumerable<Parameter>, (optim.Optimizer, optim.Optimizer)> make,
                                           Action<nn.Module<Tensor, Tensor>, optim.Optimizer, int>? everyStep = null, Func<nn.Module<Tensor, Tensor>>? model = null,
                                           int steps = Steps)
    {
        model ??= () => new SimpleNet(6, 16, 3);
        Isaac.SetSeed(5);
        using var a = model();
        Isaac.SetSeed(5);
        using var b = model();
        var (flat, reference) = make(a.parameters(), b.parameters());
        using var _ = flat;
        using var __ = reference;
        using var loss = nn.CrossEntropyLoss();
        using var generator = new TorchSharp.torch.Generator(9);
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var x = randn([8, 6], generator: generator);
            var y = randint(0, 3, [8], generator: generator);
            foreach (var (m, opt) in new[] { (a, flat), (b, reference) })
            {
                loss.call(m.call(x), y).backward();
                everyStep?.Invoke(m, opt, step);
                opt.step();
                opt.zero_grad();
            }
        }
        var (wa, wb) = (a.parameters().ToArray(), b.parameters().ToArray());
        for (int i = 0; i < wa.Length; i++)
        {
            Assert.True(TestData.Same(wa[i], wb[i]), $"parameter {i} differs after {steps} steps: max difference {(wa[i] - wb[i]).abs().max().ToDouble()}");
        }
        Isaac.SetSeed(5);
        using var initial = model();
        Assert.False(TestData.Same(initial.parameters().First(), wa[0])); // training moved the weights
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void Each_optimizer_trains_as_TorchSharps_does(string setting) =>
        AssertSameTraining((flat, reference) => Make(setting, flat, reference));

    [Theory]
    [InlineData("Adam")]
    [InlineData("AdamW wd")]
    public void A_group_large_enough_to_be_split_across_threads_steps_as_TorchSharps_does(string setting)
    {
        int threads = get_num_threads();
        set_num_threads(2);
        try
        {
            // 600 × 512 weights: above the size from which the fused step splits the group, in chunks that end mid-tensor.
            // (On this wide model a last-bit difference grows to 4e-3 by step 80, so equality here is a sharp test.)
            AssertSameTraining((flat, reference) => Make(setting, flat, reference), model: () => new Wide());
        }
        finally { set_num_threads(threads); }
    }

    /// <summary>6 inputs widened to 600 by a fixed projection, so <see cref="AssertSameTraining"/>'s data fits, then 600 × 512 weights.</summary>
    private sealed class Wide : nn.Module<Tensor, Tensor>
    {
        private readonly Tensor _widen = linspace(-1, 1, 6 * 600).reshape(6, 600);
        private readonly nn.Module<Tensor, Tensor> _layers = nn.Sequential(nn.Linear(600, 512), nn.ReLU(), nn.Linear(512, 3));

        public Wide() : base(nameof(Wide)) => RegisterComponents();

        public override Tensor forward(Tensor input) => _layers.call(input.matmul(_widen));
    }

    [Fact]
    public void Parameter_groups_keep_their_own_learning_rates_and_betas()
    {
        AssertSameTraining((flat, reference) =>
        {
            var (fa, ra) = (flat.ToList(), reference.ToList());
            var f = new Flat.Adam(fa.Take(2), 0.01);
            var r = optim.Adam(ra.Take(2), 0.01);
            f.add_param_group(new TorchSharp.Modules.Adam.ParamGroup(fa.Skip(2), lr: 0.002, beta1: 0.8));
            r.add_param_group(new TorchSharp.Modules.Adam.ParamGroup(ra.Skip(2), lr: 0.002, beta1: 0.8));
            return (f, r);
        },
        // A schedule moves the rate and momentum of every group between steps, as one-cycle does.
        everyStep: (_, opt, step) => Schedules.OptimizerSettings.SetMomentum(opt, 0.85 + 0.1 * Math.Cos(step)));
    }

    [Fact]
    public void A_parameter_without_a_gradient_is_skipped_as_TorchSharp_skips_it()
    {
        // The third layer is never used, so its parameters never get a gradient: TorchSharp leaves them (and their moments) alone.
        AssertSameTraining((flat, reference) => (new Flat.Adam(flat, 0.01, weight_decay: 0.1), optim.Adam(reference, 0.01, weight_decay: 0.1)),
            model: () => new PartlyUsed());
    }

    [Fact]
    public void A_gradient_replaced_between_steps_is_still_the_one_stepped()
    {
        // Something outside the optimizer (a module's zero_grad, a user's callback) drops the gradients now and then:
        // autograd then makes new ones, which the next step must use.
        AssertSameTraining((flat, reference) => Make("SGD momentum", flat, reference),
            everyStep: (model, _, step) =>
            {
                if (step % 7 != 3) return;
                foreach (var p in model.parameters())
                {
                    using var grad = p.grad!;
                    using var copy = grad.clone();
                    p.grad = copy;
                }
            });
    }

    [Fact]
    public void Parameters_of_different_types_step_one_tensor_at_a_time()
    {
        AssertSameTraining((flat, reference) => Make("AdamW wd", flat, reference), model: () => new MixedPrecision());
    }

    [Fact]
    public void Parameters_and_gradients_live_end_to_end_in_one_buffer_and_zero_grad_zeroes_them()
    {
        Isaac.SetSeed(1);
        using var model = new SimpleNet(6, 8, 3);
        using var opt = new Flat.Adam(model.parameters(), 0.01);
        using var loss = nn.CrossEntropyLoss();
        for (int i = 0; i < 3; i++)
        {
            using var scope = NewDisposeScope(); // as the trainer's batch: the layout made in it must outlive it
            loss.call(model.call(randn(4, 6)), randint(0, 3, [4])).backward();
            opt.step();
            long offset = 0;
            foreach (var p in model.parameters())
            {
                using var grad = p.grad!;
                Assert.Equal(offset, p.storage_offset());
                Assert.Equal(offset, grad.storage_offset());
                Assert.NotEqual(0, grad.abs().sum().item<float>());
                offset += p.numel();
            }
            opt.zero_grad();
            foreach (var p in model.parameters())
            {
                using var grad = p.grad!;
                Assert.Equal(0, grad.abs().sum().item<float>());
            }
        }
    }

    public static TheoryData<string> Formats => ["Adam", "AdamW wd", "SGD momentum"];

    /// <summary>A state saved half way by one kind loads into the other, and both go on as if never interrupted.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void Saved_state_moves_between_the_flat_optimizer_and_TorchSharps_both_ways(string setting)
    {
        Isaac.SetSeed(2);
        using var model = new SimpleNet(6, 8, 3);
        using var loss = nn.CrossEntropyLoss();
        void Train(optim.Optimizer opt, int seed, int steps)
        {
            using var generator = new TorchSharp.torch.Generator((ulong)seed);
            for (int i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                loss.call(model.call(randn([8, 6], generator: generator)), randint(0, 3, [8], generator: generator)).backward();
                opt.step();
                opt.zero_grad();
            }
        }
        byte[] Save(optim.Optimizer opt)
        {
            using var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) ((OptimizerHelper)opt).save_state_dict(writer);
            return stream.ToArray();
        }
        void Load(optim.Optimizer opt, byte[] state)
        {
            using var reader = new BinaryReader(new MemoryStream(state));
            ((OptimizerHelper)opt).load_state_dict(reader);
        }
        var start = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        optim.Optimizer New(bool flat) { var (f, t) = Make(setting, flat ? model.parameters() : [], flat ? [] : model.parameters()); (flat ? t : f).Dispose(); return flat ? f : t; }
        void AssertAtEnd(Tensor[] end) => Assert.All(model.parameters().Zip(end), pair => Assert.True(pair.First.allclose(pair.Second, rtol: 1e-5, atol: 1e-7)));

        // The reference: 40 steps with one flat optimizer.
        using (var flat = New(flat: true)) { Train(flat, 1, 20); Train(flat, 2, 20); }
        var end = model.parameters().Select(p => p.detach().clone()).ToArray();

        foreach (bool flatFirst in new[] { true, false })
        {
            model.load_state_dict(start);
            byte[] half;
            using (var first = New(flatFirst)) { Train(first, 1, 20); half = Save(first); }
            using var second = New(!flatFirst);
            Load(second, half);
            Train(second, 2, 20);
            AssertAtEnd(end);
        }
    }

    /// <summary>A model with a layer its forward never uses.</summary>
    private sealed class PartlyUsed : nn.Module<Tensor, Tensor>
    {
        private readonly Linear first = nn.Linear(6, 16), second = nn.Linear(16, 3), unused = nn.Linear(16, 3);

        public PartlyUsed() : base(nameof(PartlyUsed)) => RegisterComponents();

        public override Tensor forward(Tensor input)
        {
            using var hidden = first.call(input).relu();
            return second.call(hidden);
        }
    }

    /// <summary>A model whose second layer computes in double precision.</summary>
    private sealed class MixedPrecision : nn.Module<Tensor, Tensor>
    {
        private readonly Linear first = nn.Linear(6, 16), second = nn.Linear(16, 3);

        public MixedPrecision() : base(nameof(MixedPrecision))
        {
            RegisterComponents();
            second.to(ScalarType.Float64);
        }

        public override Tensor forward(Tensor input)
        {
            using var hidden = first.call(input).relu().to(float64);
            return second.call(hidden).to(float32);
        }
    }
}
