using static TorchSharp.torch;

namespace Isaacai.Checkpoints;

/// <summary>
/// A callback whose state must survive a checkpoint and resume (early stopping's best value and wait,
/// say). <see cref="Callbacks.CheckpointCB"/> and Save-IsaacCheckpoint call <see cref="SaveState"/>; a resumed fit calls
/// <see cref="RestoreState"/> after before_fit, so what before_fit resets is then put back.
/// </summary>
public interface ICheckpointable
{
    void SaveState(CallbackState state);

    void RestoreState(CallbackState state);
}

/// <summary>A callback's saved state: numbers (kept bit for bit) and tensors (copied on save, owned by the state).</summary>
public sealed class CallbackState : IDisposable
{
    public Dictionary<string, double> Values { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, Tensor> Tensors { get; } = new(StringComparer.Ordinal);

    /// <summary>A value that must be there: a missing one means the file was written by another version of the callback.</summary>
    public double Value(string key) => Values.TryGetValue(key, out var value) ? value
        : throw new InvalidDataException($"The checkpoint's state for this callback has no '{key}'; its keys are: {string.Join(", ", Values.Keys)}.");

    public void Dispose()
    {
        foreach (var tensor in Tensors.Values) tensor.Dispose();
        Tensors.Clear();
    }
}
