using System.Management.Automation;
using static TorchSharp.torch;

namespace Isaacai.PowerShell;

/// <summary>
/// Members that Isaacai.Types.ps1xml adds to tensors for PowerShell users: TorchSharp's generic <c>item&lt;T&gt;()</c>
/// and its Scalar/Tensor overloads (<c>mul_</c>, <c>add_</c>) cannot be called plainly from PowerShell.
/// Each takes plain numbers, so there is one overload to pick.
/// </summary>
public static class TensorMembers
{
    /// <summary>
    /// The number in a one-element tensor: double for floating types, long for integers, bool for Bool. Null for
    /// other tensors (PowerShell would drop an error from a property getter anyway): ToArray() reads those.
    /// </summary>
    public static object? Value(PSObject instance)
    {
        var tensor = Of(instance);
        return tensor.numel() == 1 ? Read(tensor, t => t.item<double>(), t => t.item<long>(), t => t.item<bool>()) : null;
    }

    /// <summary>All the values, flattened, as double[] (floating types), long[] (integers) or bool[].</summary>
    public static object ToArray(PSObject instance) =>
        Read(Of(instance), t => t.data<double>().ToArray(), t => t.data<long>().ToArray(), t => t.data<bool>().ToArray());

    /// <summary>Multiplies in place by <paramref name="factor"/>, outside autograd (parameters too); returns the tensor.</summary>
    public static Tensor MulInPlace(PSObject instance, double factor) => InPlace(instance, t => t.mul_(factor));

    /// <summary>Adds <paramref name="value"/> in place, outside autograd; returns the tensor.</summary>
    public static Tensor AddInPlace(PSObject instance, double value) => InPlace(instance, t => t.add_(value));

    /// <summary>Sets every element to <paramref name="value"/>, outside autograd; returns the tensor.</summary>
    public static Tensor FillInPlace(PSObject instance, double value) => InPlace(instance, t => t.fill_(value));

    /// <summary>Clamps every element into [<paramref name="min"/>, <paramref name="max"/>] in place, outside autograd; returns the tensor.</summary>
    public static Tensor ClampInPlace(PSObject instance, double min, double max) => InPlace(instance, t => t.clamp_(min, max));

    private static Tensor InPlace(PSObject instance, Action<Tensor> change)
    {
        var tensor = Of(instance);
        using (no_grad()) change(tensor);
        return tensor;
    }

    /// <summary>Reads through a float64, int64 or bool copy, so every dtype reads as one of three .NET types.</summary>
    private static object Read(Tensor tensor, Func<Tensor, object> floating, Func<Tensor, object> integer, Func<Tensor, object> boolean)
    {
        var (type, read) = tensor.dtype switch
        {
            ScalarType.Bool => (ScalarType.Bool, boolean),
            _ when is_integral(tensor.dtype) => (ScalarType.Int64, integer),
            _ => (ScalarType.Float64, floating),
        };
        using var copy = tensor.detach().cpu().to_type(type).contiguous();
        return read(copy);
    }

    private static Tensor Of(PSObject instance) => instance.BaseObject as Tensor
        ?? throw new ArgumentException($"Expected a tensor; got {instance.BaseObject?.GetType().FullName ?? "null"}.");
}
