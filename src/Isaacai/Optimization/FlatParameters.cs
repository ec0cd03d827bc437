using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Isaacai.Optimization;

/// <summary>
/// One parameter group laid out flat: every parameter's data becomes a view into one contiguous buffer, and
/// its gradient a view into another, so an optimizer updates the whole group with a handful of operations
/// instead of a handful per tensor (PyTorch's <c>foreach</c>/<c>fused</c> optimizers cut the same per-tensor
/// cost another way). The parameters keep their identity (same handles): libtorch's <c>set_</c> only moves
/// their storage, so modules, state dicts and checkpoints see nothing change.
/// </summary>
internal sealed class FlatParameters : IDisposable
{
    private readonly Tensor[] _gradSlots;
    private readonly IntPtr[] _gradSlotAddresses;

    private FlatParameters(IReadOnlyList<Parameter> parameters, Tensor data, Tensor grads, Tensor[] gradSlots)
    {
        Parameters = parameters;
        Data = data;
        Grads = grads;
        _gradSlots = gradSlots;
        _gradSlotAddresses = gradSlots.Select(NativeGradients.AddressOf).ToArray();
    }

    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Every parameter's values, end to end; updating it updates the parameters.</summary>
    public Tensor Data { get; }

    /// <summary>Every parameter's gradient, end to end, once <see cref="GatherGradients"/> has attached them.</summary>
    public Tensor Grads { get; }

    /// <summary>Whether every parameter's gradient is a view into <see cref="Grads"/> (as of the last gathering).</summary>
    public bool GradientsAttached { get; private set; }

    /// <summary>
    /// Lays the parameters out flat; null when they cannot share one buffer (mixed element types or devices,
    /// or none at all), and the optimizer then steps them one by one.
    /// </summary>
    public static FlatParameters? TryCreate(IEnumerable<Parameter> parameters)
    {
        var list = parameters.ToList();
        if (list.Count == 0 || !is_floating_point(list[0])) return null;
        var (dtype, deviceType, deviceIndex) = (list[0].dtype, list[0].device_type, list[0].device_index);
        if (list.Any(p => p.dtype != dtype || p.device_type != deviceType || p.device_index != deviceIndex)) return null;
        var device = list[0].device;

        long total = list.Sum(p => p.numel());
        // Detached from any dispose scope: a layout made during a batch outlives it.
        var data = empty(total, dtype: dtype, device: device).DetachFromDisposeScope();
        var grads = zeros(total, dtype: dtype, device: device).DetachFromDisposeScope();
        using (no_grad())
        {
            foreach (var (parameter, slot) in list.Zip(ViewsOf(data, list)))
            {
                slot.copy_(parameter);
                parameter.set_(slot); // the parameter now lives in the buffer; the slot view itself is not kept
                slot.Dispose();
            }
        }
        var gradSlots = ViewsOf(grads, list);
        var flat = new FlatParameters(list, data, grads, gradSlots);
        flat.GatherGradients();
        return flat;
    }

    /// <summary>
    /// Makes every parameter's gradient a view into <see cref="Grads"/>, copying in any gradient autograd made
    /// afresh (the first backward, or one after something set a gradient to null), so that later backward
    /// passes accumulate into the buffer in place. False when a parameter has no gradient: TorchSharp's
    /// optimizers skip such a parameter, which one flat update cannot, so the caller steps one by one.
    /// </summary>
    public bool GatherGradients()
    {
        bool complete = true;
        for (int i = 0; i < _gradSlots.Length; i++)
        {
            var address = NativeGradients.GradientAddressOf(Parameters[i]);
            if (address == _gradSlotAddresses[i]) continue;
            if (address == IntPtr.Zero) { complete = false; continue; }
            using var grad = Parameters[i].grad!;
            _gradSlots[i].copy_(grad);
            using (no_grad()) Parameters[i].grad = _gradSlots[i];
        }
        return GradientsAttached = complete;
    }

    /// <summary>A buffer of this group's size and type, for one kind of per-parameter optimizer state.</summary>
    public Tensor NewBuffer() => zeros_like(Data).DetachFromDisposeScope();

    /// <summary>Views of a flat buffer shaped as each parameter, in order.</summary>
    public Tensor[] Views(Tensor buffer) => ViewsOf(buffer, Parameters);

    // Detached from any dispose scope: a layout made during a batch outlives it.
    private static Tensor[] ViewsOf(Tensor buffer, IReadOnlyList<Parameter> parameters)
    {
        var views = new Tensor[parameters.Count];
        long offset = 0;
        for (int i = 0; i < views.Length; i++)
        {
            long size = parameters[i].numel();
            views[i] = buffer.narrow(0, offset, size).view(parameters[i].shape).DetachFromDisposeScope();
            offset += size;
        }
        return views;
    }

    public void Dispose()
    {
        // The parameters and their gradients keep the storage alive as long as they use it.
        foreach (var slot in _gradSlots) slot.Dispose();
        Data.Dispose();
        Grads.Dispose();
    }
}
