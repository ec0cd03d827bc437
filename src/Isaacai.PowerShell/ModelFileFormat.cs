namespace Isaacai.PowerShell;

/// <summary>What <see cref="Commands.ExportIsaacModelCommand"/> writes.</summary>
public enum ModelFileFormat
{
    /// <summary>Isaacai's model file: weights, architecture, target and preprocessing.</summary>
    Isaac,
    /// <summary>Just the weights, for PyTorch.</summary>
    Safetensors,
    /// <summary>The inference graph with the preprocessing, for ONNX Runtime.</summary>
    Onnx,
}
