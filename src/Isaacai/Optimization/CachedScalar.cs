using TorchSharp;

namespace Isaacai.Optimization;

/// <summary>
/// A TorchSharp <see cref="Scalar"/> kept while its value stays the same. Making one is a native call (and a
/// finalizer when it is not disposed), and an optimizer passes the same betas, epsilon and decay at every step.
/// </summary>
internal sealed class CachedScalar : IDisposable
{
    private Scalar? _scalar;
    private double _value;

    public Scalar Of(double value)
    {
        if (_scalar is null || !value.Equals(_value))
        {
            _scalar?.Dispose();
            _scalar = value.ToScalar();
            _value = value;
        }
        return _scalar;
    }

    public void Dispose()
    {
        _scalar?.Dispose();
        _scalar = null;
    }
}
