using Isaacai.Data.Tabular;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Isaacai.Tests;

/// <summary>What the ONNX tests and the ONNX benchmark (which compiles this file too) feed a model and its export.</summary>
internal static class OnnxFeeds
{
    /// <summary>Moves every batch norm's running statistics off their initial 0 and 1 (three train-mode passes), then eval mode, so eval is told from train.</summary>
    public static T Settled<T>(T model, params long[] inputShape) where T : nn.Module<Tensor, Tensor>
    {
        model.train();
        using (no_grad())
            for (int i = 0; i < 3; i++)
            {
                using var x = randn(inputShape) * 2 + 0.5;
                model.call(x).Dispose();
            }
        model.eval();
        return model;
    }

    /// <summary>A float32 tensor as an ONNX Runtime input.</summary>
    public static NamedOnnxValue Floats(string name, Tensor x)
    {
        using var cpu = x.contiguous();
        return NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(cpu.data<float>().ToArray(), [.. cpu.shape.Select(d => (int)d)]));
    }

    /// <summary>The table's columns as the exported graph takes them, raw: numbers as double (NaN where missing), categories as their text.</summary>
    public static NamedOnnxValue[] Columns(TabularProcessor processor, TabularTable table)
    {
        int n = table.Rows.Count;
        return [.. processor.Features.Select(feature =>
        {
            int column = table.IndexOf(feature.Name);
            var values = table.Rows.Select(r => r[column]).ToArray();
            return feature.Kind == FeatureKind.Numeric
                ? NamedOnnxValue.CreateFromTensor(feature.Name, new DenseTensor<double>(values.Select(v => TabularValues.TryNumber(v, out var d) ? d : double.NaN).ToArray(), [n, 1]))
                : NamedOnnxValue.CreateFromTensor(feature.Name, new DenseTensor<string>(values.Select(TabularValues.Text).ToArray(), [n, 1]));
        })];
    }
}
