using Isaacai.Models;
using Isaacai.Models.Vision;
using TorchSharp.Modules;
using static Isaacai.Onnx.OnnxGraph;
using static TorchSharp.torch;

namespace Isaacai.Onnx;

/// <summary>
/// Turns a layer into ONNX nodes: given the layer, its dotted path in the model and the name of its input value,
/// adds the nodes and returns the name of the output value.
/// </summary>
internal delegate string LayerConverter(OnnxGraph graph, nn.Module layer, string path, string input);

/// <summary>
/// The table of layers the ONNX export knows, one converter per layer type, as the layer computes in eval mode
/// (dropout gone, batch norm with its running statistics). Models and blocks whose forward is more than their
/// children in order (residual blocks, squeeze-and-excitation) have converters of their own that say what it is.
/// A new layer kind is one more entry (an embedding: a Gather on its weight, for instance).
/// </summary>
internal static class LayerConverters
{
    private static readonly Dictionary<string, LayerConverter> Table = new(StringComparer.Ordinal)
    {
        // The module's own models.
        [typeof(SimpleNet).FullName!] = (g, m, p, x) => Children(g, m, p, x, "flatten", "hidden", "relu", "output"),
        // Mlp flattens inputs of more than two dimensions; Flatten(axis 1) leaves [N, features] as it is.
        [typeof(Mlp).FullName!] = (g, m, p, x) => Children(g, m, p, g.Node("Flatten", Join(p, "flatten"), [x], Attribute("axis", 1L)), "layers"),
        [typeof(ConvNet).FullName!] = (g, m, p, x) => Children(g, m, p, x, "layers"),
        [typeof(VisionModel).FullName!] = VisionModelNodes,

        // Containers and layers.
        [typeof(Sequential).FullName!] = (g, m, p, x) => Children(g, m, p, x, [.. m.named_children().Select(c => c.name)]),
        [typeof(Linear).FullName!] = LinearNodes,
        [typeof(Conv2d).FullName!] = ConvNodes,
        [typeof(BatchNorm1d).FullName!] = BatchNormNodes,
        [typeof(BatchNorm2d).FullName!] = BatchNormNodes,
        [typeof(MaxPool2d).FullName!] = MaxPoolNodes,
        [typeof(AdaptiveAvgPool2d).FullName!] = AdaptiveAvgPoolNodes,
        [typeof(Flatten).FullName!] = FlattenNodes,
        [typeof(Dropout).FullName!] = (_, _, _, x) => x, // eval mode: the identity
        [typeof(Identity).FullName!] = (_, _, _, x) => x,
        [typeof(ReLU).FullName!] = (g, _, p, x) => g.Node("Relu", p, [x]),
        [typeof(ReLU6).FullName!] = (g, _, p, x) => g.Node("Clip", p, [x, g.Scalar(0), g.Scalar(6)]),
        [typeof(Tanh).FullName!] = (g, _, p, x) => g.Node("Tanh", p, [x]),
        [typeof(Sigmoid).FullName!] = (g, _, p, x) => g.Node("Sigmoid", p, [x]),
        [typeof(SiLU).FullName!] = (g, _, p, x) => g.Node("Mul", p, [x, g.Node("Sigmoid", Join(p, "sigmoid"), [x])]),
        [typeof(Hardswish).FullName!] = (g, _, p, x) => g.Node("HardSwish", p, [x]),
        // torch's hardsigmoid is relu6(x + 3) / 6: ONNX's HardSigmoid with alpha 1/6, beta 1/2.
        [typeof(Hardsigmoid).FullName!] = (g, _, p, x) => g.Node("HardSigmoid", p, [x], Attribute("alpha", 1f / 6), Attribute("beta", 0.5f)),
        [typeof(GELU).FullName!] = GeluNodes,

        // TorchVision's blocks (internal types, so named here as they are).
        ["TorchSharp.Modules.ResNet+BasicBlock"] = (g, m, p, x) => Residual(g, m, p, x, "conv1", "bn1", "relu1", "conv2", "bn2"),
        ["TorchSharp.Modules.ResNet+Bottleneck"] = (g, m, p, x) => Residual(g, m, p, x, "conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3"),
        ["TorchSharp.Modules.MobileNetV2+InvertedResidual"] = (g, m, p, x) => InvertedResidual(g, m, p, x, "conv"),
        ["TorchSharp.Modules.MobileNetV3+InvertedResidual"] = (g, m, p, x) => InvertedResidual(g, m, p, x, "block"),
        [typeof(TorchSharp.torchvision.SqueezeExcitation).FullName!] = SqueezeExcitationNodes,
    };

    /// <summary>The short names of the layer types that export, for errors.</summary>
    public static IEnumerable<string> Known => Table.Keys.Select(k => k[(k.LastIndexOfAny(['.', '+']) + 1)..]).Distinct().Order(StringComparer.Ordinal);

    /// <summary>The nodes of <paramref name="layer"/>; an <see cref="OnnxExportException"/> naming it if no converter knows its type.</summary>
    public static string Convert(OnnxGraph graph, nn.Module layer, string path, string input)
    {
        var type = layer.GetType();
        if (!Table.TryGetValue(type.FullName ?? type.Name, out var converter))
            throw new OnnxExportException(
                $"The model cannot be exported to ONNX: its layer {(path.Length == 0 ? "(the model itself)" : $"'{path}'")} is a {type.Name}, which the exporter does not know "
                + $"(its forward is code the exporter cannot read). Layers that export: {string.Join(", ", Known)}.", path, type.Name);
        return converter(graph, layer, path, input);
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static nn.Module Child(nn.Module module, string path, string name) =>
        module.named_children().FirstOrDefault(c => c.name == name).module
        ?? throw new OnnxExportException($"The layer '{path}' ({module.GetType().Name}) has no child '{name}', which the exporter expects of it.", path, module.GetType().Name);

    /// <summary>The named children, one after the other.</summary>
    private static string Children(OnnxGraph graph, nn.Module module, string path, string input, params string[] names) =>
        names.Aggregate(input, (x, name) => Convert(graph, Child(module, path, name), Join(path, name), x));

    private static string Weight(OnnxGraph graph, string path, string name, Tensor tensor) => graph.Weight(Join(path, name), tensor);

    private static string LinearNodes(OnnxGraph graph, nn.Module module, string path, string input)
    {
        var linear = (Linear)module;
        List<string> inputs = [input, Weight(graph, path, "weight", linear.weight!)];
        if (linear.bias is { } bias) inputs.Add(Weight(graph, path, "bias", bias));
        return graph.Node("Gemm", path, inputs, Attribute("transB", 1L));
    }

    private static string ConvNodes(OnnxGraph graph, nn.Module module, string path, string input)
    {
        var conv = (Conv2d)module;
        if (conv.padding_mode != TorchSharp.PaddingModes.Zeros || conv.padding is not { } padding)
            throw new OnnxExportException($"The convolution '{path}' pads with {(conv.padding is null ? $"padding type {conv.padding_type}" : $"mode {conv.padding_mode}")}; the exporter writes zero padding given in numbers.", path, nameof(Conv2d));
        List<string> inputs = [input, Weight(graph, path, "weight", conv.weight!)];
        if (conv.bias is { } bias) inputs.Add(Weight(graph, path, "bias", bias));
        return graph.Node("Conv", path, inputs, Attribute("kernel_shape", conv.kernel_size), Attribute("strides", conv.stride),
                          Attribute("pads", [.. padding, .. padding]), Attribute("dilations", conv.dilation), Attribute("group", conv.groups));
    }

    private static string BatchNormNodes(OnnxGraph graph, nn.Module module, string path, string input)
    {
        var norm = (BatchNorm)module;
        if (norm.running_mean is not { } mean || norm.running_var is not { } variance)
            throw new OnnxExportException($"The batch norm '{path}' keeps no running statistics (track_running_stats off), so in eval mode it normalises each batch by itself, which the exporter does not write.", path, module.GetType().Name);
        using var ones = ones_like(mean, ScalarType.Float32);
        using var zeros = zeros_like(mean, ScalarType.Float32);
        return graph.Node("BatchNormalization", path,
            [input, Weight(graph, path, "weight", norm.weight ?? ones), Weight(graph, path, "bias", norm.bias ?? zeros), Weight(graph, path, "running_mean", mean), Weight(graph, path, "running_var", variance)],
            Attribute("epsilon", (float)norm.eps));
    }

    private static string MaxPoolNodes(OnnxGraph graph, nn.Module module, string path, string input)
    {
        var pool = (MaxPool2d)module;
        return graph.Node("MaxPool", path, [input], Attribute("kernel_shape", pool.kernel_size), Attribute("strides", pool.stride ?? pool.kernel_size),
                          Attribute("pads", [.. pool.padding, .. pool.padding]), Attribute("dilations", pool.dilation), Attribute("ceil_mode", pool.ceil_mode ? 1L : 0L));
    }

    private static string AdaptiveAvgPoolNodes(OnnxGraph graph, nn.Module module, string path, string input)
    {
        var size = ((AdaptiveAvgPool2d)module).output_size;
        if (!size.All(s => s == 1))
            throw new OnnxExportException($"The adaptive average pool '{path}' pools to {string.Join("×", size)}; the exporter writes a pool to 1×1 (a global average pool) only.", path, nameof(AdaptiveAvgPool2d));
        return graph.Node("GlobalAveragePool", path, [input]);
    }

    private static string FlattenNodes(OnnxGraph graph, nn.Module module, string path, string input)
    {
        var flatten = (Flatten)module;
        if (flatten.start_dim != 1 || flatten.end_dim != -1)
            throw new OnnxExportException($"The flatten '{path}' joins dimensions {flatten.start_dim} to {flatten.end_dim}; the exporter writes a flatten of all but the first (1 to -1).", path, nameof(Flatten));
        return graph.Node("Flatten", path, [input], Attribute("axis", 1L));
    }

    /// <summary>GELU without Opset 20's Gelu: <c>x·Φ(x)</c> as <c>0.5·x·(1 + erf(x/√2))</c>, or torch's tanh approximation.</summary>
    private static string GeluNodes(OnnxGraph graph, nn.Module module, string path, string input)
    {
        string inner;
        if (((GELU)module).approximate == GELU.Approximate.tanh)
        {
            // tanh(√(2/π)·(x + 0.044715·x³))
            var cube = graph.Node("Mul", Join(path, "cube"), [input, graph.Node("Mul", Join(path, "square"), [input, input])]);
            var sum = graph.Node("Add", Join(path, "sum"), [input, graph.Node("Mul", Join(path, "cubic"), [cube, graph.Scalar(0.044715f)])]);
            inner = graph.Node("Tanh", Join(path, "tanh"), [graph.Node("Mul", Join(path, "scaled"), [sum, graph.Scalar((float)Math.Sqrt(2 / Math.PI))])]);
        }
        else inner = graph.Node("Erf", Join(path, "erf"), [graph.Node("Div", Join(path, "scaled"), [input, graph.Scalar((float)Math.Sqrt(2))])]);
        var half = graph.Node("Mul", Join(path, "half"), [input, graph.Scalar(0.5f)]);
        return graph.Node("Mul", path, [half, graph.Node("Add", Join(path, "one_plus"), [inner, graph.Scalar(1)])]);
    }

    /// <summary>ResNet's blocks: the main path, plus the input (through <c>downsample</c> where it has one), then ReLU.</summary>
    private static string Residual(OnnxGraph graph, nn.Module block, string path, string input, params string[] main)
    {
        var body = Children(graph, block, path, input, main);
        var identity = block.named_children().Any(c => c.name == "downsample") ? Children(graph, block, path, input, "downsample") : input;
        return graph.Node("Relu", Join(path, "relu"), [graph.Node("Add", Join(path, "add"), [body, identity])]);
    }

    /// <summary>
    /// MobileNet's inverted residual: its block, plus its input where TorchVision adds it (stride 1 and as many
    /// channels out as in), which the block keeps in its private <c>use_res_connect</c>.
    /// </summary>
    private static string InvertedResidual(OnnxGraph graph, nn.Module block, string path, string input, string child)
    {
        var output = Children(graph, block, path, input, child);
        var residual = block.GetType().GetField("use_res_connect", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)?.GetValue(block) as bool?
            ?? throw new OnnxExportException($"The block '{path}' ({block.GetType().Name}) does not say whether it adds its input (this TorchVision has no use_res_connect), so the exporter cannot write it.", path, block.GetType().Name);
        return residual ? graph.Node("Add", Join(path, "add"), [output, input]) : output;
    }

    /// <summary>Squeeze-and-excitation: the input times a per-channel scale from its pooled self.</summary>
    private static string SqueezeExcitationNodes(OnnxGraph graph, nn.Module module, string path, string input) =>
        graph.Node("Mul", Join(path, "scale"), [Children(graph, module, path, input, "avgpool", "fc1", "activation", "fc2", "scale_activation"), input]);

    /// <summary>TorchVision's body in order, its pooling (a global average one where it has none), flattened, the head.</summary>
    private static string VisionModelNodes(OnnxGraph graph, nn.Module module, string path, string input)
    {
        var spec = ((VisionModel)module).Spec;
        var x = Children(graph, module, path, input, [.. spec.Body]);
        x = spec.Pool is { } pool ? Children(graph, module, path, x, pool) : graph.Node("GlobalAveragePool", Join(path, "pool"), [x]);
        return Children(graph, module, path, graph.Node("Flatten", Join(path, "flatten"), [x], Attribute("axis", 1L)), spec.Head);
    }
}
