using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Isaacai.Data;
using Isaacai.Data.Tabular;
using Isaacai.Inference;
using Isaacai.IO;
using Isaacai.Models;
using Isaacai.Models.Vision;
using Isaacai.Onnx.Schema;
using static Isaacai.Onnx.OnnxGraph;
using DataType = Isaacai.Onnx.Schema.TensorProto.Types.DataType;

namespace Isaacai.Onnx;

/// <summary>
/// Writes a model as an ONNX file for ONNX Runtime (and anything else that reads ONNX): the inference graph (eval
/// mode: no dropout, batch norm with its running statistics), opset <see cref="Opset"/>, any batch size. A table's
/// preprocessing is in the graph, so a consumer feeds raw values: one input per column ([N, 1]; numbers as double,
/// categories as strings), numbers standardised with Sub and Div in float64 (as training did, then float32), categories one-hot through <c>ai.onnx.ml</c>'s
/// LabelEncoder. Outputs: <c>output</c> (the model's raw outputs, [N, K]); for classes also <c>probabilities</c>
/// ([N, K], softmax) and <c>label</c> (the class name, [N]); for a number <c>label</c> in the target's units ([N]).
/// Image models take <c>input</c> [N, C, H, W], prepared as the metadata says.
/// </summary>
public static class OnnxExport
{
    public const string Extension = ".onnx";

    /// <summary>The ONNX opset of the graph (ONNX 1.12's newest; ONNX Runtime 1.13 and later run it).</summary>
    public const int Opset = 17;

    /// <summary>The <c>ai.onnx.ml</c> opset (LabelEncoder).</summary>
    public const int MlOpset = 3;

    /// <summary>The ONNX IR version that goes with <see cref="Opset"/> 17.</summary>
    public const long IrVersion = 8;

    /// <summary>The graph's outputs (<c>output</c> always; the others where the target says), and the tensor input's name.</summary>
    public static IReadOnlyList<string> OutputNames { get; } = ["output", "probabilities", "label"];

    public const string TensorInputName = "input";

    /// <summary>The strings a category input reads as missing (filled in as in training, where the model was trained to fill).</summary>
    public static IReadOnlyList<string> MissingTexts { get; } = ["", "NA", "N/A", "NaN", "na", "n/a", "nan"];

    /// <summary>
    /// Writes <paramref name="predictor"/> to <paramref name="path"/> as ONNX, atomically (as <see cref="SavedModels.ModelFile.Save"/>).
    /// The whole graph is built before the file is opened: a layer the exporter does not know is an
    /// <see cref="OnnxExportException"/> naming it, and no file. <paramref name="inputShape"/> is one sample's shape
    /// (such as 1, 28, 28), needed only when neither the predictor nor the model says it.
    /// </summary>
    public static void Save(string path, Predictor predictor, IReadOnlyList<long>? inputShape = null)
    {
        var model = Build(predictor, inputShape);
        AtomicFile.Write(path, model.WriteTo);
    }

    /// <summary>The ONNX model of <paramref name="predictor"/>, as bytes.</summary>
    public static byte[] ToBytes(Predictor predictor, IReadOnlyList<long>? inputShape = null) => Build(predictor, inputShape).ToByteArray();

    internal static ModelProto Build(Predictor predictor, IReadOnlyList<long>? inputShape)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        var module = predictor.Model;
        string[] inputs = predictor.Processor is { } table ? [.. table.FeatureNames] : [TensorInputName];
        if (inputs.FirstOrDefault(OutputNames.Contains) is { } clash)
            throw new OnnxExportException($"The column '{clash}' has the name of one of the ONNX model's outputs ({string.Join(", ", OutputNames)}); rename the column to export the model.", "", nameof(TabularProcessor));
        var graph = new OnnxGraph([.. inputs, .. OutputNames]);
        graph.Proto.Name = module.GetType().Name;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);

        string input = predictor.Processor is { } processor ? TableInputs(graph, processor, metadata) : TensorInput(graph, predictor, inputShape, metadata);
        var output = LayerConverters.Convert(graph, module, "", input);
        Outputs(graph, output, predictor.Target, metadata);

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Isaacai",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            ModelVersion = 1,
            DocString = $"{module.GetType().Name} exported by Isaacai: inference graph, opset {Opset}. {metadata["input"]}",
            Graph = graph.Proto,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = MlDomain, Version = MlOpset });
        metadata["opset"] = Opset.ToString(CultureInfo.InvariantCulture);
        if (predictor.Architecture is { } architecture) metadata["architecture"] = JsonSerializer.Serialize(architecture, ModelArchitecture.Json);
        foreach (var (key, value) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    /// <summary>One input per column, encoded in the graph as <see cref="TabularProcessor"/> encodes rows, joined into the model's input.</summary>
    private static string TableInputs(OnnxGraph graph, TabularProcessor processor, Dictionary<string, string> metadata)
    {
        var blocks = new List<string>();
        foreach (var column in processor.Features)
        {
            // Numbers and one-hot categories are what the graph encodes; another encoding (an embedding's index, a
            // date's parts) would need its own nodes, and is refused rather than written as one of these.
            bool oneHot = column.Kind == FeatureKind.Category && column.Width == column.Categories.Count;
            if (!(oneHot || column.Kind == FeatureKind.Numeric && column.Width == 1))
                throw new OnnxExportException($"The column '{column.Name}' is encoded as {column.Kind} into {column.Width} input(s), which the ONNX export does not write yet (it writes numbers and one-hot categories).", "", nameof(TabularProcessor));
            if (column.Kind == FeatureKind.Numeric)
            {
                // In float64, then rounded once to float32, as TabularProcessor.EncodeRow computes: the same model inputs, bit for bit.
                var x = graph.Input(column.Name, DataType.Double, "N", 1L);
                if (column.Fill is { } fill) // as in training: a missing number (NaN here) becomes the fill value
                    x = graph.Node("Where", $"{column.Name}.filled", [graph.Node("IsNaN", $"{column.Name}.missing", [x]), graph.Scalar(FillNumber(column.Name, fill)), x]);
                var centred = graph.Node("Sub", $"{column.Name}.centred", [x, graph.Scalar(column.Mean)]);
                var standardised = graph.Node("Div", $"{column.Name}.standardised", [centred, graph.Scalar(column.Std)]);
                blocks.Add(graph.Node("Cast", $"{column.Name}.float", [standardised], Attribute("to", (long)DataType.Float)));
            }
            else
            {
                var text = graph.Input(column.Name, DataType.String, "N", 1L);
                // Category → its index (missing texts → the fill's, where training filled; unseen → -1), then
                // index == 0..K-1 as floats: the one-hot block, all zeros for an unseen category.
                var keys = column.Categories.ToList();
                var values = Enumerable.Range(0, keys.Count).Select(i => (long)i).ToList();
                if (column.Fill is { } fill)
                    foreach (var missing in MissingTexts.Where(m => !keys.Contains(m, StringComparer.Ordinal)))
                    {
                        keys.Add(missing);
                        values.Add(column.Categories.ToList().IndexOf(fill));
                    }
                var index = graph.MlNode("LabelEncoder", $"{column.Name}.index", text,
                    Attribute("keys_strings", keys), Attribute("values_int64s", values), Attribute("default_int64", -1L));
                var positions = graph.Longs($"{column.Name}.positions", [.. Enumerable.Range(0, column.Categories.Count).Select(i => (long)i)], column.Categories.Count);
                var hot = graph.Node("Equal", $"{column.Name}.is", [index, positions]);
                blocks.Add(graph.Node("Cast", $"{column.Name}.onehot", [hot], Attribute("to", (long)DataType.Float)));
            }
        }
        metadata["input"] = $"One input per column, [N, 1]: {string.Join(", ", processor.Features.Select(f => $"{f.Name} ({(f.Kind == FeatureKind.Numeric ? "double" : "string")})"))}; "
            + "raw values, standardised and one-hot encoded in the graph. A category not seen in training becomes all zeros"
            + (processor.Features.Any(f => f.Fill is not null) ? "; a missing value (NaN, or a blank or NA string) is filled as in training." : ".");
        metadata["columns"] = JsonSerializer.Serialize(processor.Features.Select(f => new { f.Name, Kind = f.Kind.ToString(), f.Categories }));
        return blocks.Count == 1 ? blocks[0] : graph.Node("Concat", "features", blocks, Attribute("axis", 1L));
    }

    /// <summary>The model's tensor input, [N, ...one sample's shape]; the metadata says how an image is prepared.</summary>
    private static string TensorInput(OnnxGraph graph, Predictor predictor, IReadOnlyList<long>? given, Dictionary<string, string> metadata)
    {
        object[] sample = given?.Select(d => (object)d).ToArray() ?? predictor.InputShape?.Select(d => (object)d).ToArray() ?? predictor.Model switch
        {
            SimpleNet net => [(long)net.Options.NIn],
            Mlp mlp => [(long)mlp.Options.InputSize],
            // Convolutions and a global pool take any image size.
            ConvNet conv => [(long)conv.Options.InputChannels, "H", "W"],
            VisionModel vision => [(long)vision.Options.InputChannels, "H", "W"],
            var other => throw new OnnxExportException($"The model ({other.GetType().Name}) does not say what one sample's shape is: give the input shape (such as 3, 64, 64).", "", other.GetType().Name),
        };
        var input = graph.Input(TensorInputName, DataType.Float, [.. sample.Prepend("N")]);
        string shape = $"[N, {string.Join(", ", sample)}]";
        if (predictor.Images is { } images)
        {
            metadata["input"] = $"input: float32 {shape}, N×C×H×W, {(images.Channels == 3 ? "RGB" : "grayscale (luminance)")} images fitted to {images.Height}×{images.Width} ({images.Resize}), "
                + $"pixels scaled to [0, 1] and normalized per channel as (x - mean) / std with mean [{Numbers(images.Mean)}] and std [{Numbers(images.Std)}].";
            metadata["image_layout"] = "NCHW";
            metadata["image_size"] = $"{images.Channels}x{images.Height}x{images.Width}";
            metadata["image_resize"] = images.Resize.ToString();
            metadata["image_mean"] = $"[{Numbers(images.Mean)}]";
            metadata["image_std"] = $"[{Numbers(images.Std)}]";
            metadata["image_scale"] = "pixels / 255 before normalization";
        }
        else metadata["input"] = $"input: float32 {shape}, as the model was trained on{(sample.Length == 3 ? " (N×C×H×W images)" : "")}.";
        return input;
    }

    private static double FillNumber(string column, string fill) => TabularValues.TryNumber(fill, out var number) ? number
        : throw new OnnxExportException($"The column '{column}' fills missing numbers with '{fill}', which is not a number.", "", nameof(TabularProcessor));

    private static string Numbers(IEnumerable<double> values) => string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary><c>output</c>, and what the target makes of it: <c>probabilities</c> and <c>label</c> (the class name), or <c>label</c> in the target's units.</summary>
    private static void Outputs(OnnxGraph graph, string output, TargetSpec? target, Dictionary<string, string> metadata)
    {
        int k = target?.OutputSize ?? 0;
        graph.Output("output", output, DataType.Float, [.. new object[] { "N" }, .. k > 0 ? new object[] { (long)k } : ["K"]]);
        if (target is null) return;
        metadata["target"] = target.Name;
        metadata["task"] = target.Task.ToString();
        if (target.Task == TaskKind.Classification)
        {
            metadata["classes"] = JsonSerializer.Serialize(target.Classes);
            graph.Output("probabilities", graph.Node("Softmax", "softmax", [output], Attribute("axis", 1L)), DataType.Float, "N", (long)k);
            var best = graph.Node("ArgMax", "argmax", [output], Attribute("axis", 1L), Attribute("keepdims", 0L));
            var label = graph.MlNode("LabelEncoder", "class_name", best, Attribute("keys_int64s", Enumerable.Range(0, k).Select(i => (long)i)),
                                     Attribute("values_strings", target.Classes), Attribute("default_string", ""));
            graph.Output("label", label, DataType.String, "N");
        }
        else
        {
            metadata["target_mean"] = target.Mean.ToString("R", CultureInfo.InvariantCulture);
            metadata["target_std"] = target.Std.ToString("R", CultureInfo.InvariantCulture);
            var scaled = graph.Node("Mul", "target_scaled", [output, graph.Scalar((float)target.Std)]);
            var number = graph.Node("Add", "target_units", [scaled, graph.Scalar((float)target.Mean)]);
            graph.Output("label", graph.Node("Squeeze", "number", [number, graph.Longs("squeeze_axes", [1L], 1)]), DataType.Float, "N");
        }
    }
}
