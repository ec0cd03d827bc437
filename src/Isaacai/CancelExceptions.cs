namespace Isaacai;

/// <summary>The level of the loop that a cancel exception skips the rest of.</summary>
public enum LoopLevel { Fit, Epoch, Batch, Step }

/// <summary>Base of the three cancel exceptions; raised by a callback to skip the rest of one level.</summary>
public abstract class CancelException : Exception
{
    protected CancelException(LoopLevel level, string message) : base(message) => Level = level;

    public LoopLevel Level { get; }
}

/// <summary>Skips the rest of the current batch and its <c>after_batch</c>; <c>cleanup_batch</c> still runs.</summary>
public sealed class CancelBatchException() : CancelException(LoopLevel.Batch, "The batch was cancelled.");

/// <summary>Skips the rest of the current epoch and its <c>after_epoch</c>; <c>cleanup_epoch</c> still runs.</summary>
public sealed class CancelEpochException() : CancelException(LoopLevel.Epoch, "The epoch was cancelled.");

/// <summary>Skips the rest of the fit and its <c>after_fit</c>; <c>cleanup_fit</c> still runs.</summary>
public sealed class CancelFitException() : CancelException(LoopLevel.Fit, "The fit was cancelled.");

/// <summary>
/// Skips the rest of the current batch's training step (its remaining <c>backward</c>, <c>step</c> and
/// <c>zero_grad</c> callbacks) but not <c>after_batch</c>: gradients are kept for a later step, as
/// gradient accumulation needs, and the batch's loss still counts.
/// </summary>
public sealed class CancelStepException() : CancelException(LoopLevel.Step, "The optimizer step was cancelled.");
