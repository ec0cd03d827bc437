namespace Isaacai;

/// <summary>A fit was asked of a trainer that is already fitting (from another thread, or from one of its own callbacks).</summary>
public sealed class TrainerBusyException() : InvalidOperationException(
    "This trainer is already fitting; it can run one fit at a time (a callback, or another runspace or thread, cannot start a second fit of it).");
