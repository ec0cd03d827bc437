namespace Isaacai.PowerShell;

/// <summary>One callback at one hook: <see cref="Position"/> 1 runs first.</summary>
public sealed record HookCallback(string Hook, int Position, Callback Callback)
{
    public string Name => Callback.Name;
    public int Order => Callback.Order;
}
