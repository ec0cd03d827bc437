using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Isaacai.Optimization;

/// <summary>The settings of one Adam or AdamW parameter group for one step.</summary>
internal readonly record struct AdamSettings(double Lr, double Beta1, double Beta2, double Eps, double WeightDecay, bool Amsgrad, bool Maximize);

/// <summary>One parameter's Adam or AdamW state, whichever TorchSharp class holds it.</summary>
internal interface IAdamState
{
    long Step { get; set; }
    Tensor? ExpAvg { get; set; }
    Tensor? ExpAvgSq { get; set; }
    Tensor? MaxExpAvgSq { get; set; }
}

/// <summary>
/// An Adam or AdamW parameter group laid out flat: parameters, gradients, both moments (and AMSGrad's running
/// maximum) each one tensor, so a step is one pass over memory on the CPU in float32 (<see cref="FusedAdamKernel"/>),
/// and about ten operations elsewhere, whatever the number of parameters.
/// </summary>
internal sealed class FlatAdamGroup : IFlatGroup
{
    private readonly IAdamState[] _states;
    private readonly FlatState _expAvg, _expAvgSq;
    private readonly FlatState? _maxExpAvgSq;
    private readonly bool _fused;

    private FlatAdamGroup(FlatParameters parameters, IAdamState[] states, bool amsgrad)
    {
        Parameters = parameters;
        _states = states;
        _expAvg = new FlatState(parameters, i => states[i].ExpAvg, (i, t) => states[i].ExpAvg = t);
        _expAvgSq = new FlatState(parameters, i => states[i].ExpAvgSq, (i, t) => states[i].ExpAvgSq = t);
        if (amsgrad) _maxExpAvgSq = new FlatState(parameters, i => states[i].MaxExpAvgSq, (i, t) => states[i].MaxExpAvgSq = t);
        _fused = FusedAdamKernel.Supports(parameters.Data);
    }

    public FlatParameters Parameters { get; }

    public static FlatAdamGroup? TryCreate(IEnumerable<Parameter> parameters, Func<Parameter, IAdamState> stateOf, bool amsgrad) =>
        FlatParameters.TryCreate(parameters) is { } flat ? new FlatAdamGroup(flat, flat.Parameters.Select(stateOf).ToArray(), amsgrad) : null;

    /// <summary>
    /// Whether the group can take one flat step: every parameter has a gradient, its moments are bound to the
    /// buffers, all share one step count (bias correction is per step), and AMSGrad is as it was laid out.
    /// </summary>
    public bool Ready(AdamSettings settings)
    {
        if (settings.Amsgrad != (_maxExpAvgSq is not null) || !Parameters.GatherGradients()) return false;
        if (_expAvg.Bind() != StateBinding.Bound || _expAvgSq.Bind() != StateBinding.Bound) return false;
        if (_maxExpAvgSq is not null && _maxExpAvgSq.Bind() != StateBinding.Bound) return false;
        long step = _states[0].Step;
        foreach (var state in _states) if (state.Step != step) return false;
        return true;
    }

    public void Step(AdamUpdate update, AdamSettings settings)
    {
        long step = _states[0].Step + 1;
        foreach (var state in _states) state.Step = step;
        if (_fused) FusedAdamKernel.Apply(Parameters.Data, Parameters.Grads, _expAvg.Buffer, _expAvgSq.Buffer, _maxExpAvgSq?.Buffer, step, settings, update.DecoupledWeightDecay);
        else update.Apply(Parameters.Data, Parameters.Grads, _expAvg.Buffer, _expAvgSq.Buffer, _maxExpAvgSq?.Buffer, step, settings);
    }

    public void Dispose()
    {
        _expAvg.Dispose();
        _expAvgSq.Dispose();
        _maxExpAvgSq?.Dispose();
        Parameters.Dispose();
    }
}
