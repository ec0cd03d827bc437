using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Isaacai.Optimization;

/// <summary>A parameter group laid out flat, as an optimizer of this folder steps it.</summary>
internal interface IFlatGroup : IDisposable
{
    FlatParameters Parameters { get; }
}

/// <summary>
/// An optimizer's parameter groups laid out flat, made at the first step (after any group was added) and
/// remade when a group is added. Steps as one only when every group can; otherwise the optimizer steps one
/// tensor at a time, as TorchSharp's does, on the same tensors.
/// </summary>
internal sealed class FlatGroups<TGroup> : IDisposable where TGroup : class, IFlatGroup
{
    private List<TGroup?>? _groups;

    /// <summary>
    /// Lays out the groups if not yet done, and steps each flat with <paramref name="step"/> if every group is
    /// <paramref name="ready"/>; false (and nothing stepped) when one is not.
    /// </summary>
    public bool TryStep(IList<ParamGroup> groups, Func<ParamGroup, TGroup?> layOut, Func<TGroup, ParamGroup, bool> ready, Action<TGroup, ParamGroup> step)
    {
        _groups ??= groups.Select(layOut).ToList();
        for (int i = 0; i < _groups.Count; i++)
            if (_groups[i] is not { } flat || !ready(flat, groups[i])) return false;
        for (int i = 0; i < _groups.Count; i++) step(_groups[i]!, groups[i]);
        return true;
    }

    /// <summary>Zeroes every gradient with one fill per group; false when a gradient is not in a buffer (before the first step, say).</summary>
    public bool TryZeroGrad()
    {
        if (_groups is null || _groups.Any(g => g is null || !g.Parameters.GradientsAttached)) return false;
        foreach (var group in _groups) group!.Parameters.Grads.zero_();
        return true;
    }

    /// <summary>Forgets the layout (a group was added): the next step lays the groups out again, state and all.</summary>
    public void Reset()
    {
        Dispose();
        _groups = null;
    }

    public void Dispose() => _groups?.ForEach(group => group?.Dispose());
}

/// <summary>The loss closure an optimizer's <c>step</c> may take, evaluated as TorchSharp's optimizers do.</summary>
internal static class OptimizerClosure
{
    public static Tensor? Evaluate(Func<Tensor>? closure)
    {
        if (closure is null) return null;
        using var _ = enable_grad();
        return closure();
    }
}
