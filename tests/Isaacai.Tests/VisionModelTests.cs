using System.Text.Json;
using Isaacai.Inference;
using Isaacai.Models;
using Isaacai.Models.Vision;
using Isaacai.SavedModels;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Isaacai.Tests;

/// <summary>
/// Vision models over TorchVision's architectures against torchvision itself: the key lists and the outputs of a
/// model trained a little by PyTorch 1.13 (tests/fixtures/pytorch/make_vision_fixtures.py, see its README).
/// </summary>
public sealed class VisionModelTests(ITestOutputHelper output) : TempFolderTests("isaacai-vision-")
{
    internal static string Fixture(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fixtures", "pytorch", name);
        Assert.True(File.Exists(path), $"{path} should be copied beside the tests");
        return path;
    }

    private const string MobileNet = "mobilenet_v3_small-10.pt";

    private static readonly Lazy<Dictionary<string, (string Key, long[] Shape, string Dtype)[]>> TorchvisionKeys = new(() =>
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Fixture("vision-keys.json")));
        return json.RootElement.EnumerateObject().ToDictionary(arch => arch.Name, arch => arch.Value.EnumerateArray()
            .Select(k => (k[0].GetString()!, k[1].EnumerateArray().Select(d => d.GetInt64()).ToArray(), k[2].GetString()!)).ToArray());
    });

    private static string DtypeName(ScalarType type) => type switch { ScalarType.Float32 => "float32", ScalarType.Int64 => "int64", _ => type.ToString() };

    // Every catalog architecture but the largest (VGG 13/16/19 and ResNet-101/152 are the same builders as their
    // smaller kin with more blocks, and each takes seconds and gigabytes to initialise here).
    [Theory]
    [InlineData("resnet18", 3)]
    [InlineData("resnet34", 3)]
    [InlineData("resnet50", 3)]
    [InlineData("mobilenet_v2", 3)]
    [InlineData("mobilenet_v3_small", 3)]
    [InlineData("mobilenet_v3_large", 3)]
    [InlineData("vgg11", 3)]
    [InlineData("vgg11_bn", 3)]
    [InlineData("alexnet", 3)]
    [InlineData("resnet18", 1)]
    [InlineData("mobilenet_v2", 1)]
    public void Its_state_dict_has_torchvisions_keys_shapes_and_dtypes(string architecture, int channels)
    {
        using var model = new VisionModel(new VisionModelOptions(architecture, 10, channels));
        var expected = TorchvisionKeys.Value[channels == 1 ? architecture + "/1" : architecture];
        var actual = model.state_dict();
        // The same keys; not in the same order: TorchSharp lists a module's parameters before its buffers, PyTorch
        // module by module. Loading goes by key, so the order does not matter.
        Assert.Equal(expected.Select(k => k.Key).Order(), actual.Keys.Order());
        foreach (var (key, shape, dtype) in expected)
        {
            Assert.True(shape.SequenceEqual(actual[key].shape), $"'{key}' is [{string.Join(", ", actual[key].shape)}] here, [{string.Join(", ", shape)}] in torchvision");
            Assert.Equal(dtype, DtypeName(actual[key].dtype));
        }
    }

    [Fact]
    public void The_catalog_names_every_architecture_the_key_list_has()
    {
        var fromPython = TorchvisionKeys.Value.Keys.Where(k => !k.Contains('/')).Order();
        Assert.Equal(fromPython, VisionArchitecture.Names.Order());
    }

    [Fact]
    public void Weights_trained_by_PyTorch_give_PyTorchs_outputs()
    {
        using var model = new VisionModel(new VisionModelOptions("mobilenet_v3_small", 10));
        var skipped = model.LoadPretrained(Fixture(MobileNet));
        Assert.Empty(skipped);
        var io = StateDicts.Read(Fixture("mobilenet_v3_small-10-io.pt"));
        try
        {
            model.eval();
            using var _ = no_grad();
            using var outputs = model.call(io["inputs"]);
            Assert.Equal([4L, 10], outputs.shape);
            using var difference = (outputs - io["outputs"]).abs().max();
            double maxError = difference.item<float>();
            output.WriteLine($"mobilenet_v3_small, 4 images 3×64×64: max |ours − PyTorch's| = {maxError:E2}");
            Assert.True(maxError < 1e-4, $"max error {maxError}");
            using var spread = io["outputs"].std();
            Assert.True(spread.item<float>() > 0.05, "the expected outputs should not all be alike");
        }
        finally
        {
            foreach (var tensor in io.Values) tensor.Dispose();
        }
    }

    /// <summary>
    /// make_vision_fixtures.py's formula_tensor, computed the same way: integers, then a division by 1024 and
    /// power-of-two scales, so every float32 is exact and both sides hold the same bits.
    /// </summary>
    internal static Tensor FormulaTensor(string key, long[] shape, ScalarType dtype)
    {
        if (dtype == ScalarType.Int64) return full(shape, 7L, dtype: ScalarType.Int64);
        long offset = key.Select((c, j) => (long)(j + 1) * c).Sum() % 2048;
        long n = shape.Aggregate(1L, (a, b) => a * b);
        using var scope = NewDisposeScope();
        var v = ((arange(n, dtype: ScalarType.Int64) * 2654435761L + offset).remainder(2048) - 1024).to_type(ScalarType.Float32) / 1024;
        string name = key[(key.LastIndexOf('.') + 1)..];
        if (name == "weight" && shape.Length >= 2) v = v * Math.Pow(2, -(System.Numerics.BitOperations.Log2((ulong)(n / shape[0])) >> 1));
        else if (name is "weight" or "running_var") v = 1 + v / 4;
        else if (name == "running_mean" || (name == "bias" && shape.Length == 1 && key.Contains("bn"))) v = v / 8;
        else v = v / 16;
        return v.reshape(shape).MoveToOuterDisposeScope();
    }

    // Architectures too large to commit trained weights for: every tensor set by formula, PyTorch's outputs committed.
    [Theory]
    [InlineData("resnet18", 3)]
    [InlineData("resnet50", 3)]
    [InlineData("mobilenet_v2", 3)]
    [InlineData("mobilenet_v3_large", 3)]
    [InlineData("resnet18", 1)]
    public void Weights_set_by_formula_give_PyTorchs_outputs(string architecture, int channels)
    {
        using var model = new VisionModel(new VisionModelOptions(architecture, 10, channels));
        using (no_grad())
            foreach (var (key, tensor) in model.state_dict())
            {
                using var value = FormulaTensor(key, tensor.shape, tensor.dtype);
                tensor.copy_(value);
            }
        var io = StateDicts.Read(Fixture("vision-formula-io.pt"));
        try
        {
            model.eval();
            using var _ = no_grad();
            using var outputs = model.call(io[channels == 1 ? "inputs1" : "inputs3"]);
            var expected = io[$"{architecture}/{channels}"];
            using var difference = (outputs - expected).abs().max();
            double maxError = difference.item<float>();
            output.WriteLine($"{architecture}, {channels} channel(s), 2 images 64×64, weights by formula: max |ours − PyTorch's| = {maxError:E2}");
            Assert.True(maxError < 1e-4, $"max error {maxError}");
        }
        finally
        {
            foreach (var tensor in io.Values) tensor.Dispose();
        }
    }

    [Fact]
    public void Pretrained_weights_for_other_classes_skip_the_head_and_keep_every_body_tensor_bit_identical()
    {
        using var model = new VisionModel(new VisionModelOptions("mobilenet_v3_small", 5));
        var headBefore = model.state_dict().Where(kv => kv.Key.StartsWith("classifier.3.")).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var skipped = model.LoadPretrained(Fixture(MobileNet));
        Assert.Equal(["classifier.3.weight", "classifier.3.bias"], skipped);

        var file = StateDicts.Read(Fixture(MobileNet));
        var state = model.state_dict();
        Assert.Equal(file.Count, state.Count);
        foreach (var (key, tensor) in state)
        {
            if (skipped.Contains(key)) Assert.True(TestData.Same(headBefore[key], tensor), $"the new head's '{key}' should be kept");
            else Assert.True(tensor.bytes.SequenceEqual(file[key].bytes) && tensor.dtype == file[key].dtype, $"'{key}' should be the file's, bit for bit");
        }
        Assert.Contains("features.1.block.0.1.running_var", state.Keys); // BatchNorm statistics are among them
        Assert.Equal(3, state["features.0.1.num_batches_tracked"].item<long>());
        foreach (var tensor in file.Values.Concat(headBefore.Values)) tensor.Dispose();
    }

    [Fact]
    public void Weights_without_BatchNorm_batch_counts_load_as_PyTorch_loads_them()
    {
        var file = StateDicts.Read(Fixture(MobileNet));
        var old = file.Where(kv => !kv.Key.EndsWith(".num_batches_tracked")).ToDictionary();
        Assert.True(old.Count < file.Count);
        var path = PathOf("old.safetensors");
        using (var stream = File.Create(path)) Safetensors.Write(stream, old);
        using var model = new VisionModel(new VisionModelOptions("mobilenet_v3_small", 10));
        model.LoadPretrained(path);
        var state = model.state_dict();
        foreach (var (key, tensor) in old) Assert.True(tensor.bytes.SequenceEqual(state[key].bytes), $"'{key}' should be the file's");
        Assert.Equal(0, state["features.0.1.num_batches_tracked"].item<long>());
        foreach (var tensor in file.Values) tensor.Dispose();
    }

    [Fact]
    public void Weights_of_another_architecture_are_one_error_naming_the_file_and_keys_and_change_nothing()
    {
        using var model = new VisionModel(new VisionModelOptions("resnet18", 10));
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var error = Assert.Throws<InvalidDataException>(() => model.LoadPretrained(Fixture(MobileNet)));
        Assert.Contains(MobileNet, error.Message);
        Assert.Contains("missing from the file: 'conv1.weight'", error.Message);
        Assert.Matches(@"in the file but not in the model: '(features|classifier)\.[^;]* and \d+ more", error.Message);
        Assert.Contains("nothing was loaded", error.Message);
        foreach (var (key, tensor) in model.state_dict()) Assert.True(TestData.Same(before[key], tensor), $"'{key}' changed");
    }

    [Fact]
    public void A_one_channel_model_sums_the_pretrained_RGB_filters_so_gray_images_see_what_the_RGB_model_sees()
    {
        using var rgb = new VisionModel(new VisionModelOptions("mobilenet_v3_small", 10));
        using var gray = new VisionModel(new VisionModelOptions("mobilenet_v3_small", 10, InputChannels: 1));
        rgb.LoadPretrained(Fixture(MobileNet));
        gray.LoadPretrained(Fixture(MobileNet));
        using var summed = rgb.state_dict()["features.0.0.weight"].sum(1, keepdim: true);
        Assert.Equal([16L, 1, 3, 3], gray.state_dict()["features.0.0.weight"].shape);
        Assert.True(TestData.Same(summed, gray.state_dict()["features.0.0.weight"]));

        rgb.eval(); gray.eval();
        using var _ = no_grad();
        using var image = randn(2, 1, 64, 64, generator: new TorchSharp.torch.Generator(3));
        using var tripled = image.expand(2, 3, 64, 64);
        using var fromGray = gray.call(image);
        using var fromRgb = rgb.call(tripled);
        using var difference = (fromGray - fromRgb).abs().max();
        Assert.True(difference.item<float>() < 1e-4, $"max difference {difference.item<float>()}");
    }

    [Fact]
    public void The_wrong_channel_count_is_an_error_saying_what_the_model_takes()
    {
        using var model = new VisionModel(new VisionModelOptions("resnet18", 4, InputChannels: 1));
        using var x = zeros(1, 3, 32, 32);
        var error = Assert.Throws<ArgumentException>(() => model.call(x));
        Assert.Contains("1-channel", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new VisionModel(new VisionModelOptions("resnet18", 4, InputChannels: 2)));
        var unknown = Assert.Throws<ArgumentException>(() => new VisionModel(new VisionModelOptions("resnet19", 4)));
        Assert.Contains("resnet18", unknown.Message);
    }

    [Fact]
    public void It_is_rebuilt_from_an_isaac_file_and_predicts_the_same_bit_for_bit()
    {
        random.manual_seed(11);
        using var model = new VisionModel(new VisionModelOptions("resnet18", 3, InputChannels: 1));
        using (var x = randn(4, 1, 32, 32)) { model.train(); using var _ = no_grad(); model.call(x).Dispose(); } // moves BN statistics
        var path = PathOf("resnet.isaac");
        ModelFile.Save(path, new Predictor(model));
        var loaded = ModelFile.Load(path);
        var rebuilt = Assert.IsType<VisionModel>(loaded.Model);
        Assert.Equal(new VisionModelOptions("resnet18", 3, 1), rebuilt.Options);
        using var images = randn(2, 1, 32, 32);
        using var expected = new Predictor(model).Outputs(images);
        using var actual = loaded.Outputs(images);
        Assert.True(TestData.Same(expected, actual));
    }

    [Fact]
    public void Freezing_stops_the_body_but_its_BatchNorm_layers_and_the_head()
    {
        using var model = new VisionModel(new VisionModelOptions("resnet18", 10));
        model.Freeze();
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        Assert.False(((Conv2d)modules["conv1"]).weight.requires_grad);
        Assert.False(((Conv2d)modules["layer4.1.conv2"]).weight.requires_grad);
        Assert.True(((BatchNorm2d)modules["layer4.1.bn2"]).weight!.requires_grad);
        Assert.True(((BatchNorm2d)modules["bn1"]).bias!.requires_grad);
        Assert.True(((Linear)modules["fc"]).weight.requires_grad);
        Assert.True(Freezing.IsFrozen(model));
        model.Unfreeze();
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
        Assert.False(Freezing.IsFrozen(model));
        Assert.Equal(["body", "head"], model.ParameterGroups.Select(g => g.Name));
        Assert.Equal(model.parameters().Count(), model.ParameterGroups.Sum(g => g.Parameters.Count()));
    }
}
