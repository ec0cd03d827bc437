using static TorchSharp.torch;

namespace Isaacai;

/// <summary>One batch: inputs and targets. <c>batch[0]</c> and <c>batch[1]</c> work as in the seed.</summary>
public sealed class Batch(Tensor x, Tensor y)
{
    public Tensor X { get; set; } = x;
    public Tensor Y { get; set; } = y;

    /// <summary>How many samples the batch holds.</summary>
    public long Size => X.shape[0];

    public Tensor this[int index] => index switch
    {
        0 => X,
        1 => Y,
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "A batch has two parts: 0 (inputs) and 1 (targets)."),
    };
}
