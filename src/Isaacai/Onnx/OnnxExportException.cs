namespace Isaacai.Onnx;

/// <summary>
/// A model, or a part of it, that the ONNX export cannot write: <see cref="LayerPath"/> says where in the model
/// (such as <c>layers.2</c>) and <see cref="LayerType"/> what it is. Thrown before any file is written.
/// </summary>
public sealed class OnnxExportException : NotSupportedException
{
    public OnnxExportException(string message, string layerPath, string layerType) : base(message) => (LayerPath, LayerType) = (layerPath, layerType);

    /// <summary>The dotted path of the layer within the model ("" for the model itself).</summary>
    public string LayerPath { get; }

    /// <summary>The layer's .NET type name.</summary>
    public string LayerType { get; }
}
