using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Isaacai.Optimization;

/// <summary>
/// The address of a tensor's first element, which tells whether a parameter's gradient is still the view an optimizer
/// attached. TorchSharp 0.107 has no <c>data_ptr</c>; its native library exports the function behind one.
/// </summary>
internal static class TensorAddress
{
    private delegate IntPtr DataPointer(IntPtr tensor);

    private static readonly DataPointer Data = Marshal.GetDelegateForFunctionPointer<DataPointer>(
        NativeLibrary.GetExport(NativeLibrary.Load("LibTorchSharp", typeof(Tensor).Assembly, null), "THSTensor_data"));

    public static IntPtr Of(Tensor tensor) => Data(tensor.Handle);
}
