using System.Runtime.InteropServices;
using Google.Protobuf;
using Isaacai.Onnx.Schema;
using static TorchSharp.torch;

namespace Isaacai.Onnx;

/// <summary>
/// An ONNX graph being built: nodes in order, initializers (weights and constants), inputs and outputs. Every
/// value gets a unique name; node outputs are named after the layer that makes them, so the graph reads like the model.
/// </summary>
internal sealed class OnnxGraph
{
    /// <summary>The ONNX domain of the classical machine-learning operators (LabelEncoder).</summary>
    public const string MlDomain = "ai.onnx.ml";

    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reserved;
    private int _constants;

    /// <param name="reserved">The graph's input and output names: no layer's value takes them.</param>
    public OnnxGraph(IEnumerable<string> reserved) => _reserved = new(reserved, StringComparer.Ordinal);

    public GraphProto Proto { get; } = new();

    /// <summary>A name not yet used in the graph, based on <paramref name="hint"/>.</summary>
    public string Unique(string hint)
    {
        var name = string.IsNullOrEmpty(hint) ? "value" : hint;
        for (int i = 1; _reserved.Contains(name) || !_names.Add(name); i++) name = $"{hint}_{i}";
        return name;
    }

    /// <summary>Adds a node named after <paramref name="name"/>; returns the name of its output.</summary>
    public string Node(string op, string name, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = Unique(name + "/" + op) };
        node.Input.AddRange(inputs);
        node.Output.Add(Unique(name));
        node.Attribute.AddRange(attributes);
        Proto.Node.Add(node);
        return node.Output[0];
    }

    /// <summary>Adds a node of the ML domain; returns its output.</summary>
    public string MlNode(string op, string name, string input, params AttributeProto[] attributes)
    {
        var output = Node(op, name, [input], attributes);
        Proto.Node[^1].Domain = MlDomain;
        return output;
    }

    /// <summary>A float32 tensor of the model's as an initializer named <paramref name="name"/> (made unique).</summary>
    public string Weight(string name, Tensor tensor)
    {
        if (tensor.dtype != ScalarType.Float32)
            throw new OnnxExportException($"The weight '{name}' is {tensor.dtype}; the ONNX export writes float32 models. Convert the model to float32 first.", name, "");
        using var cpu = tensor.detach().cpu().contiguous();
        return Initializer(name, cpu.shape, TensorProto.Types.DataType.Float, ByteString.CopyFrom(MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan())));
    }

    /// <summary>A float32 constant of the given shape.</summary>
    public string Floats(string hint, float[] values, params long[] shape) =>
        Initializer(hint, shape, TensorProto.Types.DataType.Float, ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())));

    /// <summary>A float32 scalar constant.</summary>
    public string Scalar(float value) => Floats($"const_{_constants++}", [value]);

    /// <summary>A float64 scalar constant.</summary>
    public string Scalar(double value) =>
        Initializer($"const_{_constants++}", [], TensorProto.Types.DataType.Double, ByteString.CopyFrom(BitConverter.GetBytes(value)));

    /// <summary>An int64 constant of the given shape.</summary>
    public string Longs(string hint, long[] values, params long[] shape) =>
        Initializer(hint, shape, TensorProto.Types.DataType.Int64, ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())));

    private string Initializer(string hint, long[] shape, TensorProto.Types.DataType type, ByteString data)
    {
        var tensor = new TensorProto { Name = Unique(hint), DataType = (int)type, RawData = data };
        tensor.Dims.AddRange(shape);
        Proto.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Declares a graph input (a reserved name); dimensions are numbers, or names for the dynamic ones (such as "N").</summary>
    public string Input(string name, TensorProto.Types.DataType type, params object[] dimensions)
    {
        Claim(name);
        Proto.Input.Add(ValueInfo(name, type, dimensions));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> a graph output named <paramref name="name"/> (an Identity renames it).</summary>
    public void Output(string name, string value, TensorProto.Types.DataType type, params object[] dimensions)
    {
        var node = new NodeProto { OpType = "Identity", Name = Unique(name + "/Identity") };
        node.Input.Add(value);
        node.Output.Add(name);
        Claim(name);
        Proto.Node.Add(node);
        Proto.Output.Add(ValueInfo(name, type, dimensions));
    }

    private void Claim(string name)
    {
        if (!_reserved.Contains(name) || !_names.Add(name)) throw new InvalidOperationException($"The graph's input or output '{name}' was not reserved, or is declared twice.");
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] dimensions)
    {
        var shape = new TensorShapeProto();
        foreach (var dimension in dimensions)
            shape.Dim.Add(dimension switch
            {
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                long size => new TensorShapeProto.Types.Dimension { DimValue = size },
                int size => new TensorShapeProto.Types.Dimension { DimValue = size },
                _ => throw new ArgumentException($"A dimension is a number or a name, not {dimension}."),
            });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    public static AttributeProto Attribute(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Attribute(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Attribute(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Attribute(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Attribute(string name, IEnumerable<string> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        attribute.Strings.AddRange(values.Select(ByteString.CopyFromUtf8));
        return attribute;
    }
}
