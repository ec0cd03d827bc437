using static TorchSharp.torch;

namespace Isaacai.Callbacks;

/// <summary>A copy of a model's weights and buffers, to put back later (best weights, last finite step).</summary>
public sealed class WeightSnapshot : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, Tensor> Tensors => _tensors;

    public bool IsEmpty => _tensors.Count == 0;

    /// <summary>Copies the model's current state, reusing the buffers of the previous copy.</summary>
    public void Take(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (key, tensor) in model.state_dict())
        {
            if (_tensors.TryGetValue(key, out var copy) && copy.shape.SequenceEqual(tensor.shape) && copy.dtype == tensor.dtype && copy.device == tensor.device)
                copy.copy_(tensor);
            else
            {
                copy?.Dispose();
                _tensors[key] = tensor.detach().clone().DetachFromDisposeScope();
            }
        }
    }

    public void RestoreInto(nn.Module model) => SavedModels.StateDicts.LoadInto(model, _tensors, "the saved weights");

    /// <summary>Takes the tensors of a checkpoint's state as its own copies.</summary>
    public void Load(IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        Clear();
        foreach (var (key, tensor) in tensors) _tensors[key] = tensor.clone().DetachFromDisposeScope();
    }

    public void Clear()
    {
        foreach (var tensor in _tensors.Values) tensor.Dispose();
        _tensors.Clear();
    }

    public void Dispose() => Clear();
}
