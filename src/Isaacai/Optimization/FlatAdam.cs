using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Isaacai.Optimization;

/// <summary>
/// Adam and AdamW stepping each parameter group as one flat tensor (<see cref="FlatParameters"/>), at a fixed cost of
/// about ten operations per step instead of about ten per parameter tensor. Built on TorchSharp's Adam for its options,
/// parameter groups and state, which TorchSharp's AdamW saves in the same format; a checkpoint's optimizer state is named
/// by the class, so <see cref="Adam"/> and <see cref="AdamW"/> states load into TorchSharp's optimizers of the same
/// names and back.
/// </summary>
public abstract class FlatAdam : TorchSharp.Modules.Adam
{
    private readonly FlatGroups<FlatAdamGroup> _flat = new();
    private readonly AdamUpdate _update;

    private protected FlatAdam(IEnumerable<Parameter> parameters, double lr, double beta1, double beta2, double eps, double weightDecay,
                               bool amsgrad, bool maximize, bool decoupledWeightDecay)
        : base(parameters, lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) => _update = new AdamUpdate(decoupledWeightDecay);

    public override Tensor step(Func<Tensor>? closure = null)
    {
        var loss = OptimizerClosure.Evaluate(closure);
        if (!_flat.TryStep(_parameter_groups, LayOut, (flat, group) => flat.Ready(Settings(group)),
                           (flat, group) => flat.Step(_update, Settings(group))))
            StepEachTensor();
        return loss!;
    }

    public override void zero_grad()
    {
        if (!_flat.TryZeroGrad()) base.zero_grad();
    }

    public override void add_param_group(TorchSharp.Modules.ParamGroup param_group)
    {
        base.add_param_group(param_group);
        _flat.Reset();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _flat.Dispose();
            _update.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>
    /// The same update one tensor at a time, as TorchSharp steps: for a step the flat layout cannot take (a parameter
    /// without a gradient is skipped, parameters at different step counts). It works on the same tensors, so the flat
    /// layout picks up where it left off.
    /// </summary>
    private void StepEachTensor()
    {
        using var _ = no_grad();
        foreach (var group in _parameter_groups)
        {
            var settings = Settings(group);
            foreach (var parameter in group.Parameters)
            {
                using var grad = parameter.grad;
                if (grad is null) continue;
                var state = (State)_state[parameter.Handle];
                state.step += 1;
                _update.Apply(parameter, grad, state.exp_avg, state.exp_avg_sq, state.max_exp_avg_sq, state.step, settings);
            }
        }
    }

    private FlatAdamGroup? LayOut(TorchSharp.Modules.ParamGroup group) =>
        FlatAdamGroup.TryCreate(group.Parameters, p => new StateSlots((State)_state[p.Handle]), Settings(group).Amsgrad);

    private static AdamSettings Settings(TorchSharp.Modules.ParamGroup group)
    {
        var o = (Options)group.Options;
        return new(o.LearningRate!.Value, o.beta1!.Value, o.beta2!.Value, o.eps!.Value, o.weight_decay!.Value, o.amsgrad!.Value, o.maximize!.Value);
    }

    private sealed class StateSlots(State state) : IAdamState
    {
        public long Step { get => state.step; set => state.step = value; }
        public Tensor? ExpAvg { get => state.exp_avg; set => state.exp_avg = value!; }
        public Tensor? ExpAvgSq { get => state.exp_avg_sq; set => state.exp_avg_sq = value!; }
        public Tensor? MaxExpAvgSq { get => state.max_exp_avg_sq; set => state.max_exp_avg_sq = value!; }
    }
}
