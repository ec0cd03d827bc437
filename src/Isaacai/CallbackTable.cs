namespace Isaacai;

/// <summary>
/// The callbacks that implement each hook, sorted by order (stable). Built once and reused for every
/// batch, so running a hook is an array walk: no reflection, no sorting, no allocation.
/// </summary>
internal sealed class CallbackTable
{
    private readonly Callback[][] _byHook;

    public CallbackTable(IEnumerable<Callback> callbacks)
    {
        var sorted = callbacks.OrderBy(cb => cb.Order).ToArray(); // OrderBy is stable: ties keep insertion order.
        _byHook = HookNames.All.Select(hook => sorted.Where(cb => cb.Implements(hook)).ToArray()).ToArray();
    }

    public Callback[] For(Hook hook) => _byHook[(int)hook];
}
