using static TorchSharp.torch;

namespace Isaacai.Optimization;

/// <summary>
/// One kind of per-parameter optimizer state (Adam's first moment, SGD's momentum buffer) kept in one flat
/// buffer laid out as the group's <see cref="FlatParameters"/>. TorchSharp's own state objects still hold a
/// tensor per parameter, as views into the buffer, so their save, load and <c>to(device)</c> keep working;
/// whatever replaces one of those tensors (a loaded state, a step taken one tensor at a time) is copied back
/// into the buffer at the next <see cref="Bind"/>.
/// </summary>
internal sealed class FlatState : IDisposable
{
    private readonly Func<int, Tensor?> _get;
    private readonly Action<int, Tensor?> _set;
    private readonly Tensor[] _views;
    private readonly IntPtr[] _given; // the handle of the view each state object was last given

    public FlatState(FlatParameters layout, Func<int, Tensor?> get, Action<int, Tensor?> set)
    {
        (_get, _set) = (get, set);
        Buffer = layout.NewBuffer();
        _views = layout.Views(Buffer);
        _given = new IntPtr[_views.Length];
    }

    /// <summary>Every parameter's state, end to end.</summary>
    public Tensor Buffer { get; }

    /// <summary>
    /// Makes each parameter's state tensor a view into <see cref="Buffer"/>, copying in the values of any it
    /// holds that is not (its first zeros, a loaded state). <see cref="StateBinding.Unset"/> when no parameter
    /// has this state yet (SGD's momentum before the first step); <see cref="StateBinding.Mixed"/> when some
    /// have and some have not, and the caller steps one by one.
    /// </summary>
    public StateBinding Bind()
    {
        int unset = 0;
        for (int i = 0; i < _views.Length; i++)
        {
            var held = _get(i);
            if (held is null) { unset++; continue; }
            if (held.Handle == _given[i]) continue;
            _views[i].copy_(held);
            Give(i);
            held.Dispose();
        }
        return unset == 0 ? StateBinding.Bound : unset == _views.Length ? StateBinding.Unset : StateBinding.Mixed;
    }

    /// <summary>Gives every parameter's state object its view, once <see cref="Buffer"/> holds the values (a first step).</summary>
    public void GiveAll()
    {
        for (int i = 0; i < _views.Length; i++)
        {
            _get(i)?.Dispose();
            Give(i);
        }
    }

    // The state object gets a wrapper of its own, since TorchSharp disposes state tensors when it replaces them.
    private void Give(int i)
    {
        var view = _views[i].alias().DetachFromDisposeScope();
        _given[i] = view.Handle;
        _set(i, view);
    }

    public void Dispose()
    {
        foreach (var view in _views) view.Dispose();
        Buffer.Dispose();
    }
}

internal enum StateBinding { Bound, Unset, Mixed }
