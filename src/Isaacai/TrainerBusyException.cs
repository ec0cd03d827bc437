namespace Isaacai;

/// <summary>
/// A fit, or another change, was asked of a trainer that a job holds (<see cref="Trainer.Claim"/>): from
/// another thread, or a second fit from one of its own callbacks.
/// </summary>
public sealed class TrainerBusyException() : InvalidOperationException(
    "This trainer is already fitting, or another command is changing it; it does one job at a time (a callback, or another runspace or thread, cannot start a second one). Wait for the running one to end.");
