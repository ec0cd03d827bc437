using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Isaacai.Optimization;

/// <summary>
/// An SGD parameter group laid out flat: parameters, gradients and (once momentum is used) the momentum buffers each
/// one tensor, so a step is a few operations whatever the number of parameters.
/// </summary>
internal sealed class FlatSgdGroup(FlatParameters parameters, Func<int, Tensor?> buffer, Action<int, Tensor?> setBuffer) : IFlatGroup
{
    private FlatState? _momentum;
    private bool _firstStep;

    public FlatParameters Parameters { get; } = parameters;

    /// <summary>
    /// Whether the group can take one flat step: every parameter has a gradient and, with momentum, either all or
    /// none of its momentum buffers exist (none: this is their first step).
    /// </summary>
    public bool Ready(SgdSettings settings)
    {
        if (!Parameters.GatherGradients()) return false;
        if (settings.Momentum == 0) return true;
        _momentum ??= new FlatState(Parameters, buffer, setBuffer);
        var binding = _momentum.Bind();
        _firstStep = binding == StateBinding.Unset;
        return binding != StateBinding.Mixed;
    }

    public void Step(SgdUpdate update, SgdSettings settings)
    {
        update.Apply(Parameters.Data, Parameters.Grads, _momentum?.Buffer, _firstStep, settings);
        if (settings.Momentum != 0 && _firstStep) _momentum!.GiveAll();
    }

    public void Dispose()
    {
        _momentum?.Dispose();
        Parameters.Dispose();
    }
}
