using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Isaacai.Optimization;

/// <summary>
/// Where a parameter's gradient starts in memory, read straight from TorchSharp's native library: it tells whether
/// the gradient is still the view an optimizer attached. TorchSharp 0.107 has no <c>data_ptr</c>, and its
/// <c>grad</c> property makes a managed tensor (with a finalizer, registered in the batch's dispose scope) each time,
/// a cost paid per parameter per step that this check exists to avoid.
/// </summary>
internal static class NativeGradients
{
    private delegate IntPtr TensorFunction(IntPtr tensor);
    private delegate void TensorAction(IntPtr tensor);

    private static readonly IntPtr Library = NativeLibrary.Load("LibTorchSharp", typeof(Tensor).Assembly, null);
    private static readonly TensorFunction Grad = Export<TensorFunction>("THSTensor_grad");
    private static readonly TensorFunction Data = Export<TensorFunction>("THSTensor_data");
    private static readonly TensorAction Free = Export<TensorAction>("THSTensor_dispose");

    private static T Export<T>(string name) where T : Delegate => Marshal.GetDelegateForFunctionPointer<T>(NativeLibrary.GetExport(Library, name));

    /// <summary>The address of the first element of <paramref name="tensor"/>.</summary>
    public static IntPtr AddressOf(Tensor tensor) => Data(tensor.Handle);

    /// <summary>The address of the first element of the parameter's gradient; zero when it has none.</summary>
    public static IntPtr GradientAddressOf(Tensor parameter)
    {
        var grad = Grad(parameter.Handle);
        if (grad == IntPtr.Zero) return IntPtr.Zero;
        try { return Data(grad); }
        finally { Free(grad); }
    }
}
