using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Isaacai.Optimization;

/// <summary>
/// TorchSharp's SGD (momentum, dampening, Nesterov, weight decay), stepping each parameter group as one flat tensor
/// (<see cref="FlatParameters"/>): the same update, options, parameter groups and saved state (it loads into
/// TorchSharp's SGD and back), at a few operations per step instead of a few per parameter tensor.
/// </summary>
public sealed class SGD : TorchSharp.Modules.SGD
{
    private readonly FlatGroups<FlatSgdGroup> _flat = new();
    private readonly SgdUpdate _update = new();

    public SGD(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0,
               bool nesterov = false, bool maximize = false)
        : base(parameters, lr, momentum, dampening, weight_decay, nesterov, maximize) { }

    public override Tensor step(Func<Tensor>? closure = null)
    {
        var loss = OptimizerClosure.Evaluate(closure);
        if (!_flat.TryStep(_parameter_groups, LayOut, (flat, group) => flat.Ready(Settings(group)), (flat, group) => flat.Step(_update, Settings(group))))
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

    /// <summary>The same update one tensor at a time, as TorchSharp steps, for a step the flat layout cannot take.</summary>
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
                bool firstStep = settings.Momentum != 0 && state.momentum_buffer is null;
                if (firstStep) state.momentum_buffer = zeros_like(parameter).DetachFromDisposeScope();
                _update.Apply(parameter, grad, state.momentum_buffer, firstStep, settings);
            }
        }
    }

    private FlatSgdGroup? LayOut(TorchSharp.Modules.ParamGroup group)
    {
        if (FlatParameters.TryCreate(group.Parameters) is not { } flat) return null;
        var states = flat.Parameters.Select(p => (State)_state[p.Handle]).ToArray();
        return new FlatSgdGroup(flat, i => states[i].momentum_buffer, (i, buffer) => states[i].momentum_buffer = buffer!);
    }

    private static SgdSettings Settings(TorchSharp.Modules.ParamGroup group)
    {
        var o = (Options)group.Options;
        return new(o.LearningRate!.Value, o.momentum!.Value, o.dampening!.Value, o.weight_decay!.Value, o.nesterov!.Value, o.maximize!.Value);
    }
}
