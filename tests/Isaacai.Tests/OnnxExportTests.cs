using Isaacai.Data;
using Isaacai.Data.Images;
using Isaacai.Data.Tabular;
using Isaacai.Inference;
using Isaacai.Models;
using Isaacai.Models.Vision;
using Isaacai.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = TorchSharp.torch.Tensor;
using static Isaacai.Tests.OnnxFeeds;
using static TorchSharp.torch;

namespace Isaacai.Tests;

/// <summary>
/// Every architecture the module builds, exported and run by ONNX Runtime, against TorchSharp's outputs on the same
/// inputs: within 1e-5 for MLPs and 1e-4 for conv nets, and the same classes.
/// </summary>
public sealed class OnnxExportTests() : TempFolderTests("isaacai-onnx-")
{
    private const float MlpTolerance = 1e-5f, ConvTolerance = 1e-4f;

    /// <summary>A layer of the user's own (as Add-Type makes one): its forward is code the exporter cannot read.</summary>
    private sealed class Doubler() : nn.Module<Tensor, Tensor>(nameof(Doubler))
    {
        public override Tensor forward(Tensor input) => input * 2;
    }

    private static InferenceSession Session(Predictor predictor, IReadOnlyList<long>? inputShape = null) => new(OnnxExport.ToBytes(predictor, inputShape));

    private static DisposableNamedOnnxValue[] Run(InferenceSession session, params NamedOnnxValue[] inputs) => [.. session.Run(inputs)];

    private static float[] Output(DisposableNamedOnnxValue[] outputs, string name) => [.. outputs.Single(o => o.Name == name).AsTensor<float>()];

    private static float MaxDifference(float[] onnx, Tensor torch)
    {
        var expected = torch.contiguous().data<float>().ToArray();
        Assert.Equal(expected.Length, onnx.Length);
        return expected.Zip(onnx, (a, b) => Math.Abs(a - b)).Max();
    }

    /// <summary>Runs <paramref name="predictor"/>'s model in TorchSharp and its export in ONNX Runtime on <paramref name="x"/>; returns the largest difference of the outputs.</summary>
    private static float CompareOnTensors(Predictor predictor, Tensor x, IReadOnlyList<long>? inputShape = null)
    {
        using var session = Session(predictor, inputShape);
        using var expected = predictor.Outputs(x);
        var outputs = Run(session, Floats("input", x));
        try
        {
            var actual = Output(outputs, "output");
            if (predictor.Target is { Task: TaskKind.Classification } target)
            {
                // The same classes, by name, and softmax's probabilities.
                var labels = outputs.Single(o => o.Name == "label").AsTensor<string>().ToArray();
                Assert.Equal(predictor.Decode(expected).Select(p => (string)p.Value), labels);
                using var probabilities = expected.softmax(1);
                Assert.True(MaxDifference(Output(outputs, "probabilities"), probabilities) <= 1e-5f);
            }
            return MaxDifference(actual, expected);
        }
        finally
        {
            foreach (var output in outputs) output.Dispose();
        }
    }

    [Fact]
    public void SimpleNet_matches_onnx_runtime_on_images_it_flattens()
    {
        Isaac.SetSeed(1);
        using var model = new SimpleNet(784, 32, 10);
        using var x = randn(6, 1, 28, 28);
        var predictor = new Predictor(model, TargetSpec.Classification("label", [.. Enumerable.Range(0, 10).Select(i => $"c{i}")]));
        Assert.True(CompareOnTensors(predictor, x, [1, 28, 28]) <= MlpTolerance);
    }

    [Theory]
    [InlineData(MlpActivation.ReLU, 0.0, false)]
    [InlineData(MlpActivation.ReLU, 0.3, true)]
    [InlineData(MlpActivation.GELU, 0.2, true)]
    [InlineData(MlpActivation.Tanh, 0.5, true)]
    [InlineData(MlpActivation.GELU, 0.0, false)]
    public void Mlp_matches_onnx_runtime_in_eval_mode(MlpActivation activation, double dropout, bool batchNorm)
    {
        Isaac.SetSeed(2);
        using var model = new Mlp(new MlpOptions(12, [32, 16], 3, activation, dropout, batchNorm));
        Settled(model, 64, 12);
        using var x = randn(50, 12) * 3;
        var difference = CompareOnTensors(new Predictor(model, TargetSpec.Classification("y", ["a", "b", "c"])), x);
        Assert.True(difference <= MlpTolerance, $"max difference {difference}");
    }

    [Fact]
    public void The_batch_dimension_is_dynamic()
    {
        Isaac.SetSeed(3);
        using var model = new Mlp(5, [8], 2);
        using var session = Session(new Predictor(model));
        Assert.Equal("N", session.InputMetadata["input"].SymbolicDimensions[0]);
        foreach (int n in new[] { 1, 7, 300 })
        {
            using var x = randn(n, 5);
            using var expected = new Predictor(model).Outputs(x);
            var outputs = Run(session, Floats("input", x));
            Assert.Equal([n, 2], outputs.Single().AsTensor<float>().Dimensions.ToArray());
            Assert.True(MaxDifference(Output(outputs, "output"), expected) <= MlpTolerance);
            foreach (var output in outputs) output.Dispose();
        }
    }

    [Fact]
    public void ConvNet_matches_onnx_runtime_with_its_running_statistics()
    {
        Isaac.SetSeed(4);
        using var model = new ConvNet(new ConvNetOptions(1, [8, 16, 32], 10));
        Settled(model, 16, 1, 28, 28);
        using var x = randn(8, 1, 28, 28);
        var predictor = new Predictor(model, TargetSpec.Classification("label", [.. Enumerable.Range(0, 10).Select(i => $"c{i}")]));
        var difference = CompareOnTensors(predictor, x);
        Assert.True(difference <= ConvTolerance, $"max difference {difference}");
    }

    [Theory]
    [InlineData("resnet18", 3)]
    [InlineData("resnet50", 3)]
    [InlineData("mobilenet_v2", 3)]
    [InlineData("mobilenet_v3_small", 3)]
    [InlineData("mobilenet_v3_large", 3)]
    [InlineData("resnet34", 1)]
    public void Vision_models_match_onnx_runtime(string architecture, int channels)
    {
        Isaac.SetSeed(5);
        using var model = new VisionModel(new VisionModelOptions(architecture, 4, channels));
        Settled(model, 4, channels, 64, 64);
        using var x = randn(3, channels, 64, 64);
        var images = new ImagePipeline(64, 64, channels, ResizeMethod.Crop, [.. Enumerable.Repeat(0.5, channels)], [.. Enumerable.Repeat(0.25, channels)]);
        var predictor = new Predictor(model, TargetSpec.Classification("kind", ["w", "x", "y", "z"]), images: images);
        var difference = CompareOnTensors(predictor, x);
        Assert.True(difference <= ConvTolerance, $"{architecture}: max difference {difference}");
    }

    [Fact]
    public void An_image_model_states_its_input_and_classes_in_the_metadata()
    {
        Isaac.SetSeed(6);
        using var model = new ConvNet(new ConvNetOptions(3, [8], 2));
        var images = new ImagePipeline(32, 48, 3, ResizeMethod.Squish, ImagePipeline.ImageNetMean, ImagePipeline.ImageNetStd);
        using var session = Session(new Predictor(model, TargetSpec.Classification("animal", ["cat", "dog"]), images: images));
        var metadata = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal("[\"cat\",\"dog\"]", metadata["classes"]);
        Assert.Equal("NCHW", metadata["image_layout"]);
        Assert.Equal("3x32x48", metadata["image_size"]);
        Assert.Equal("[0.485, 0.456, 0.406]", metadata["image_mean"]);
        Assert.Equal("[0.229, 0.224, 0.225]", metadata["image_std"]);
        Assert.Contains("(x - mean) / std", metadata["input"]);
        Assert.Equal("17", metadata["opset"]);
        Assert.Equal(["N", "", "", ""], session.InputMetadata["input"].SymbolicDimensions);
        Assert.Equal([-1, 3, 32, 48], session.InputMetadata["input"].Dimensions);
    }

    /// <summary>The penguins, with their missing values filled as training filled them, and a model with batch norm.</summary>
    private static (DatasetDict Data, Predictor Predictor, TabularTable Table) Penguins(string target, MlpActivation activation = MlpActivation.ReLU)
    {
        Isaac.SetSeed(7);
        var table = TabularTable.ReadCsv(PalmerPenguins.CsvPath);
        var data = TabularDatasets.FromTable(table, new TabularOptions(target) { MissingValue = MissingValuePolicy.Mean });
        var model = new Mlp(new MlpOptions(data.Processor!.Width, [16, 8], data.Target!.OutputSize, activation, 0.1, BatchNorm: true));
        Settled(model, 64, data.Processor.Width);
        return (data, new Predictor(model, processor: data.Processor), table);
    }

    [Theory]
    [InlineData(MlpActivation.ReLU)]
    [InlineData(MlpActivation.GELU)]
    public void A_tabular_classifier_takes_raw_columns_and_gives_labels_and_probabilities(MlpActivation activation)
    {
        var (data, predictor, table) = Penguins("species", activation);
        using var _ = predictor.Model;
        using var session = Session(predictor);
        Assert.Equal(predictor.Processor!.FeatureNames.Order(), session.InputMetadata.Keys.Order());
        Assert.Equal(typeof(string), session.InputMetadata["island"].ElementType);
        Assert.Equal(typeof(double), session.InputMetadata["bill_length_mm"].ElementType);
        Assert.Contains(table.Rows, r => TabularValues.IsMissing(r[table.IndexOf("sex")])); // the NA rows are in, filled in the graph

        using var encoded = predictor.Processor.Transform(table);
        using var expected = predictor.Outputs(encoded);
        var outputs = Run(session, Columns(predictor.Processor, table));
        var difference = MaxDifference(Output(outputs, "output"), expected);
        Assert.True(difference <= MlpTolerance, $"max difference {difference}");
        using var probabilities = expected.softmax(1);
        Assert.True(MaxDifference(Output(outputs, "probabilities"), probabilities) <= MlpTolerance);
        Assert.Equal(predictor.Decode(expected).Select(p => (string)p.Value), outputs.Single(o => o.Name == "label").AsTensor<string>().ToArray());
        foreach (var output in outputs) output.Dispose();
        data.Values.ToList().ForEach(split => split.Dispose());
    }

    [Fact]
    public void A_tabular_regression_gives_the_number_in_the_targets_units()
    {
        var (data, predictor, table) = Penguins("body_mass_g");
        using var _ = predictor.Model;
        using var session = Session(predictor);
        using var encoded = predictor.Processor!.Transform(table);
        using var expected = predictor.Outputs(encoded);
        var outputs = Run(session, Columns(predictor.Processor, table));
        Assert.True(MaxDifference(Output(outputs, "output"), expected) <= MlpTolerance);
        var grams = Output(outputs, "label");
        var truth = predictor.Decode(expected).Select(p => (double)p.Value).ToArray();
        Assert.Equal(table.Rows.Count, grams.Length);
        // float32 in grams (a few thousand): its spacing there is 2.4e-4, so compared relatively.
        Assert.All(truth.Zip(grams), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-5 * Math.Abs(p.First) + 1e-3, $"{p.First} vs {p.Second}"));
        foreach (var output in outputs) output.Dispose();
        data.Values.ToList().ForEach(split => split.Dispose());
    }

    [Fact]
    public void A_layer_of_the_users_own_is_one_error_naming_it_and_no_file()
    {
        using var model = nn.Sequential(("fc", nn.Linear(4, 4)), ("twice", new Doubler()), ("relu", nn.ReLU()), ("custom", new Doubler()));
        var path = PathOf("custom.onnx");
        var error = Assert.Throws<OnnxExportException>(() => OnnxExport.Save(path, new Predictor(model), [4]));
        Assert.Equal("twice", error.LayerPath);
        Assert.Equal(nameof(Doubler), error.LayerType);
        Assert.Contains("'twice' is a Doubler", error.Message);
        Assert.Contains("Linear", error.Message); // what does export
        Assert.Empty(Files()); // neither the file nor its temporary

        File.WriteAllText(path, "before");
        Assert.Throws<OnnxExportException>(() => OnnxExport.Save(path, new Predictor(model), [4]));
        Assert.Equal("before", File.ReadAllText(path));
    }

    [Fact]
    public void A_sequential_of_the_layers_it_knows_matches_onnx_runtime()
    {
        Isaac.SetSeed(9);
        using var model = Settled(nn.Sequential(
            nn.Conv2d(3, 6, 3, padding: 1), nn.BatchNorm2d(6), nn.SiLU(), nn.MaxPool2d(3, stride: 2, padding: 1),
            nn.Conv2d(6, 6, 3, stride: 2, padding: 2, dilation: 2, groups: 3, bias: false), nn.ReLU6(), nn.Hardswish(), nn.Hardsigmoid(),
            nn.Conv2d(6, 8, 1), nn.Sigmoid(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(8, 16), nn.GELU(TorchSharp.Modules.GELU.Approximate.tanh), nn.Dropout(0.5), nn.Identity(), nn.Tanh(), nn.Linear(16, 3, hasBias: false)), 8, 3, 20, 20);
        using var x = randn(5, 3, 20, 20);
        var difference = CompareOnTensors(new Predictor(model), x, [3, 20, 20]);
        Assert.True(difference <= ConvTolerance, $"max difference {difference}");
    }

    public static TheoryData<string, string> RefusedLayers => new()
    {
        { "pool7", "pools to 7×7" },
        { "flatten0", "joins dimensions 0 to -1" },
        { "reflect", "pads with mode Reflect" },
        { "batchstats", "keeps no running statistics" },
        { "double", "is Float64; the ONNX export writes float32 models" },
    };

    [Theory]
    [MemberData(nameof(RefusedLayers))]
    public void A_layer_it_cannot_write_faithfully_is_refused_with_the_reason(string kind, string reason)
    {
        nn.Module<Tensor, Tensor> layer = kind switch
        {
            "pool7" => nn.AdaptiveAvgPool2d(7),
            "flatten0" => nn.Flatten(0),
            "reflect" => nn.Conv2d(3, 3, 3, padding: 1, padding_mode: TorchSharp.PaddingModes.Reflect),
            "batchstats" => nn.BatchNorm2d(3, track_running_stats: false),
            _ => nn.Conv2d(3, 3, 3, dtype: ScalarType.Float64),
        };
        using var model = nn.Sequential(("first", nn.Identity()), ("layer", layer));
        var error = Assert.Throws<OnnxExportException>(() => OnnxExport.ToBytes(new Predictor(model), [3, 16, 16]));
        Assert.Contains(reason, error.Message);
        Assert.StartsWith("layer", error.LayerPath);
    }

    [Fact]
    public void Save_writes_a_file_onnx_runtime_opens()
    {
        Isaac.SetSeed(8);
        using var model = new Mlp(3, [4], 2);
        var path = PathOf("small.onnx");
        OnnxExport.Save(path, new Predictor(model, TargetSpec.Classification("y", ["no", "yes"])));
        Assert.Equal([path], Files());
        using var session = new InferenceSession(path);
        Assert.Equal(["output", "probabilities", "label"], session.OutputMetadata.Keys);
        Assert.Equal("Isaacai", session.ModelMetadata.ProducerName);
    }
}
