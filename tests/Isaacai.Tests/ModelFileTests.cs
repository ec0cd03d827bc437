using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Isaacai.Data;
using Isaacai.Data.Tabular;
using Isaacai.Inference;
using Isaacai.Models;
using Isaacai.SavedModels;
using TorchSharp;
using static TorchSharp.torch;

namespace Isaacai.Tests;

public sealed class ModelFileTests() : TempFolderTests("isaacai-modelfile-")
{
    /// <summary>A model of the user's own: the file cannot rebuild it.</summary>
    private sealed class Tiny : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear fc;

        public Tiny() : base(nameof(Tiny))
        {
            fc = nn.Linear(4, 3);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => fc.call(input);
    }

    /// <summary>A model whose state holds a dtype that safetensors does not hold here, so writing it fails part-way.</summary>
    private sealed class WithComplexBuffer : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear fc;

        public WithComplexBuffer() : base(nameof(WithComplexBuffer))
        {
            fc = nn.Linear(4, 3);
            RegisterComponents();
            register_buffer("phase", zeros(2, dtype: ScalarType.ComplexFloat32));
        }

        public override Tensor forward(Tensor input) => fc.call(input);
    }

    /// <summary>Every tensor of the model's state, copied (the state dict's tensors are the model's own).</summary>
    private static Dictionary<string, Tensor> Snapshot(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    private static void AssertSameState(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, tensor) in expected)
        {
            Assert.Equal(tensor.dtype, actual[key].dtype);
            Assert.Equal(tensor.shape, actual[key].shape);
            Assert.True(tensor.bytes.SequenceEqual(actual[key].bytes), $"'{key}' differs");
        }
    }

    private static void AssertSamePredictions(IReadOnlyList<Prediction> expected, IReadOnlyList<Prediction> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i], actual[i]);
            if (e.Value is double[] raw) Assert.Equal(raw, Assert.IsType<double[]>(a.Value));
            else Assert.Equal(e.Value, a.Value);
            Assert.Equal(e.ClassIndex, a.ClassIndex);
            Assert.Equal(e.Probability, a.Probability);
            if (e.Probabilities is null) Assert.Null(a.Probabilities);
            else Assert.Equal(e.Probabilities.OrderBy(p => p.Key), a.Probabilities!.OrderBy(p => p.Key));
        }
    }

    /// <summary>A small table with a numeric pair, a two-valued category and a three-species target: 4 inputs, 3 classes.</summary>
    private static TabularTable Table(int rows = 40, int seed = 1)
    {
        var random = new Random(seed);
        return new TabularTable(["length", "mass", "island", "species"], Enumerable.Range(0, rows).Select(i =>
        {
            int species = i % 3;
            return new object?[]
            {
                (30 + 5 * species + random.NextDouble()).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                (3000 + 400 * species + 100 * random.NextDouble()).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                random.Next(2) == 0 ? "Biscoe" : "Dream",
                new[] { "Adelie", "Chinstrap", "Gentoo" }[species],
            };
        }).ToList());
    }

    /// <summary>A few SGD steps in training mode, so weights and batch-norm running statistics move from their initial values.</summary>
    private static void Train(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, int steps = 5)
    {
        var optimizer = optim.SGD(model.parameters(), 0.1);
        model.train();
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.call(x), y);
            loss.backward();
            optimizer.step();
        }
    }

    /// <summary>A trained Mlp with batch norm, tanh and dropout, and the dataset it was trained on.</summary>
    private static (Mlp Model, DatasetDict Data) TrainedMlp()
    {
        random.manual_seed(3);
        var dd = TabularDatasets.FromTable(Table(), new TabularOptions("species"));
        Assert.Equal(4, dd.Processor!.Width);
        var model = new Mlp(4, [8, 6], 3, MlpActivation.Tanh, dropout: 0.1, batchNorm: true);
        Train(model, dd["train"].Tensors().X, dd["train"].Tensors().Y);
        return (model, dd);
    }

    // ---------------------------------------------------------------- safetensors

    [Fact]
    public void Safetensors_round_trip_is_bit_exact_for_floats_longs_and_scalars()
    {
        using var generator = new Generator(5);
        var tensors = new Dictionary<string, Tensor>
        {
            ["weight"] = randn([3, 5], generator: generator),
            ["special"] = tensor(new[] { float.NaN, float.NegativeInfinity, -0f, float.Epsilon, float.MaxValue }),
            ["index"] = tensor(new[] { long.MinValue, -1L, 0, 1, long.MaxValue }),
            ["count"] = tensor(5L),           // 0-dim, as num_batches_tracked
            ["scale"] = tensor(1.25f),        // 0-dim float
            ["transposed"] = randn([4, 2], generator: generator).t(), // not contiguous
            ["empty"] = zeros(0, 3),
        };
        Assert.False(tensors["transposed"].is_contiguous());
        using var stream = new MemoryStream();
        Safetensors.Write(stream, tensors);
        var bytes = stream.ToArray();

        // The layout: 8-byte little-endian header length, then the JSON header, padded so the data starts 8-byte aligned.
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        using (var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength)))
        {
            var root = header.RootElement;
            Assert.Equal("pt", root.GetProperty("__metadata__").GetProperty("format").GetString());
            Assert.Equal("F32", root.GetProperty("weight").GetProperty("dtype").GetString());
            Assert.Equal("I64", root.GetProperty("count").GetProperty("dtype").GetString());
            Assert.Equal(0, root.GetProperty("count").GetProperty("shape").GetArrayLength());
            Assert.Equal([2L, 4], root.GetProperty("transposed").GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
            long end = root.EnumerateObject().Where(p => p.Name != "__metadata__").Max(p => p.Value.GetProperty("data_offsets")[1].GetInt64());
            Assert.Equal(bytes.Length, 8 + headerLength + end);
        }

        stream.Position = 0;
        var read = Safetensors.Read(stream, "memory");
        try
        {
            Assert.Equal(tensors.Keys.Order(), read.Keys.Order());
            foreach (var (key, expected) in tensors)
            {
                using var contiguous = expected.contiguous();
                Assert.Equal(expected.dtype, read[key].dtype);
                Assert.Equal(expected.shape, read[key].shape);
                Assert.True(contiguous.bytes.SequenceEqual(read[key].bytes), $"'{key}' differs");
            }
            Assert.Equal(0, read["count"].dim());
            Assert.Equal(5L, read["count"].item<long>());
            Assert.Equal(tensors["transposed"][1, 3].item<float>(), read["transposed"][1, 3].item<float>());
        }
        finally
        {
            foreach (var t in read.Values.Concat(tensors.Values)) t.Dispose();
        }
    }

    [Fact]
    public void Safetensors_other_dtypes_round_trip_and_an_unsupported_one_is_named()
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["f64"] = tensor(new[] { Math.PI, -1e300 }),
            ["i32"] = tensor(new[] { int.MinValue, 7 }),
            ["u8"] = tensor(new byte[] { 0, 255 }),
            ["flag"] = tensor(new[] { true, false, true }),
            ["half"] = tensor(new[] { 1.5f, -2f }).to_type(ScalarType.Float16),
        };
        using var stream = new MemoryStream();
        Safetensors.Write(stream, tensors);
        stream.Position = 0;
        var read = Safetensors.Read(stream, "memory");
        foreach (var (key, expected) in tensors)
        {
            Assert.Equal(expected.dtype, read[key].dtype);
            Assert.True(expected.bytes.SequenceEqual(read[key].bytes), $"'{key}' differs");
        }

        using var complex = zeros(2, dtype: ScalarType.ComplexFloat32);
        var error = Assert.Throws<ArgumentException>(() => Safetensors.Write(new MemoryStream(), new Dictionary<string, Tensor> { ["phase"] = complex }));
        Assert.Contains("'phase'", error.Message);
        Assert.Contains("ComplexFloat32", error.Message);
    }

    private static byte[] SomeSafetensors()
    {
        using var stream = new MemoryStream();
        using var a = arange(12, dtype: ScalarType.Float32).reshape(3, 4);
        using var b = tensor(3L);
        Safetensors.Write(stream, new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b });
        return stream.ToArray();
    }

    [Fact]
    public void Truncated_safetensors_is_a_clear_error()
    {
        var bytes = SomeSafetensors();
        var path = PathOf("weights.safetensors");

        File.WriteAllBytes(path, bytes[..^5]); // inside the data
        var error = Assert.Throws<InvalidDataException>(() => StateDicts.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);

        File.WriteAllBytes(path, bytes[..20]); // inside the header
        error = Assert.Throws<InvalidDataException>(() => StateDicts.Read(path));
        Assert.Contains(path, error.Message);

        File.WriteAllBytes(path, bytes[..5]); // inside the length
        error = Assert.Throws<InvalidDataException>(() => StateDicts.Read(path));
        Assert.Contains("truncated", error.Message);

        // A stream that cannot seek meets the end while reading, and says so too.
        using var pipe = new NonSeekable(bytes[..^5]);
        error = Assert.Throws<InvalidDataException>(() => Safetensors.Read(pipe, "pipe"));
        Assert.Contains("truncated", error.Message);
    }

    private sealed class NonSeekable(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    [Fact]
    public void Foreign_files_are_not_safetensors()
    {
        var random = PathOf("random.bin");
        var bytes = new byte[256];
        new Random(1).NextBytes(bytes);
        File.WriteAllBytes(random, bytes);
        var error = Assert.Throws<InvalidDataException>(() => StateDicts.Read(random));
        Assert.Contains(random, error.Message);
        Assert.Contains("is not a model file Isaacai reads", error.Message);

        var text = PathOf("notes.txt");
        File.WriteAllText(text, "These are my notes about the model.\nThey are not weights.\n");
        error = Assert.Throws<InvalidDataException>(() => StateDicts.Read(text));
        Assert.Contains(text, error.Message);
        Assert.Contains("is not a model file Isaacai reads", error.Message);
    }

    private static byte[] WithHeader(string json, int dataBytes = 0)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    [Theory]
    [InlineData("{not json}", 0, "not valid JSON")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2]}}""", 8, "not valid JSON")]
    [InlineData("""{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}""", 2, "'F8_E4M3'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "needs 12 bytes")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}""", 8, "bad shape")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", 8, "bad shape or byte range")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, "truncated")]
    // A shape far beyond its bytes is refused before anything is allocated (not a 4 PB allocation failing in libtorch).
    [InlineData("""{"a":{"dtype":"F32","shape":[1000000,1000000,1000],"data_offsets":[0,8]}}""", 8, "needs 4000000000000000 bytes; its byte range holds 8")]
    [InlineData("""{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""", 8, "needs more than 2^63 bytes")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, "'a' appears twice")]
    public void Bad_safetensors_headers_are_clear_errors(string header, int dataBytes, string expected)
    {
        using var stream = new MemoryStream(WithHeader(header, dataBytes));
        var error = Assert.Throws<InvalidDataException>(() => Safetensors.Read(stream, "bad.safetensors"));
        Assert.Contains("bad.safetensors", error.Message);
        Assert.Contains(expected, error.Message);
    }

    // ---------------------------------------------------------------- model files

    [Fact]
    public void An_Mlp_with_batch_norm_round_trips_with_identical_outputs_and_predictions()
    {
        var (model, dd) = TrainedMlp();
        var state = model.state_dict();
        Assert.NotEqual(0f, state["layers.1.running_mean"].abs().sum().item<float>()); // training moved the statistics
        Assert.Equal(5L, state["layers.1.num_batches_tracked"].item<long>());

        var original = new Predictor(model, processor: dd.Processor);
        var path = PathOf("penguins" + ModelFile.Extension);
        ModelFile.Save(path, original);
        var loaded = ModelFile.Load(path);

        var rebuilt = Assert.IsType<Mlp>(loaded.Model);
        Assert.NotSame(model, rebuilt);
        Assert.Equal(4, rebuilt.Options.InputSize);
        Assert.Equal([8, 6], rebuilt.Options.HiddenSize);
        Assert.Equal(3, rebuilt.Options.OutputSize);
        Assert.Equal(MlpActivation.Tanh, rebuilt.Options.Activation);
        Assert.Equal(0.1, rebuilt.Options.Dropout);
        Assert.True(rebuilt.Options.BatchNorm);
        Assert.True(JsonNode.DeepEquals(original.Architecture!.Options, loaded.Architecture!.Options));
        AssertSameState(Snapshot(model), rebuilt.state_dict());

        var x = dd["valid"].Tensors().X;
        using var expected = original.Outputs(x);
        using var actual = loaded.Outputs(x);
        Assert.True(TestData.Same(expected, actual));
        // Eval mode: the outputs come from the running statistics, not the batch's (a single row gives the same answer).
        using var first = loaded.Outputs(x.narrow(0, 0, 1));
        Assert.True(first.allclose(expected.narrow(0, 0, 1), rtol: 0, atol: 1e-6));

        AssertSamePredictions(original.Predict(x), loaded.Predict(x));
        var table = Table(rows: 9, seed: 2);
        var predictions = original.Predict(table);
        Assert.All(predictions, p => Assert.Contains((string)p.Value, dd.Target!.Classes));
        AssertSamePredictions(predictions, loaded.Predict(table));
    }

    [Fact]
    public void Predicting_the_same_rows_again_gives_bit_identical_predictions()
    {
        // Each call encodes the table afresh; the result must not depend on where that buffer happens to lie.
        var (model, dd) = TrainedMlp();
        var predictor = new Predictor(model, processor: dd.Processor);
        var table = Table(rows: 9, seed: 2);
        var first = predictor.Predict(table);
        for (int i = 0; i < 30; i++) AssertSamePredictions(first, predictor.Predict(table));
    }

    [Fact]
    public void The_file_is_a_zip_of_a_manifest_and_safetensors_weights()
    {
        var (model, dd) = TrainedMlp();
        var path = PathOf("model.isaac");
        ModelFile.Save(path, new Predictor(model, processor: dd.Processor));

        using var zip = ZipFile.OpenRead(path);
        Assert.Equal([ModelFile.ManifestEntry, ModelFile.WeightsEntry], zip.Entries.Select(e => e.FullName).Order());

        using (var stream = zip.GetEntry(ModelFile.ManifestEntry)!.Open())
        using (var manifest = JsonDocument.Parse(stream))
        {
            var root = manifest.RootElement;
            Assert.Equal("isaacai-model", root.GetProperty("format").GetString());
            Assert.Equal(1, root.GetProperty("formatVersion").GetInt32());
            Assert.StartsWith("Isaacai ", root.GetProperty("createdBy").GetString());
            Assert.Equal(typeof(Mlp).FullName, root.GetProperty("modelType").GetString());
            var architecture = root.GetProperty("architecture");
            Assert.Equal("Mlp", architecture.GetProperty("kind").GetString());
            var options = architecture.GetProperty("options");
            Assert.Equal(4, options.GetProperty("inputSize").GetInt32());
            Assert.Equal([8, 6], options.GetProperty("hiddenSize").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal("Tanh", options.GetProperty("activation").GetString());
            Assert.True(options.GetProperty("batchNorm").GetBoolean());

            var target = root.GetProperty("target");
            Assert.Equal("species", target.GetProperty("name").GetString());
            Assert.Equal("Classification", target.GetProperty("task").GetString());
            Assert.Equal(["Adelie", "Chinstrap", "Gentoo"], target.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));

            var preprocessing = root.GetProperty("preprocessing");
            var features = preprocessing.GetProperty("features").EnumerateArray().ToList();
            Assert.Equal(["length", "mass", "island"], features.Select(f => f.GetProperty("name").GetString()));
            Assert.Equal(["Numeric", "Numeric", "Category"], features.Select(f => f.GetProperty("kind").GetString()));
            Assert.Equal(dd.Processor!.Features[0].Mean, features[0].GetProperty("mean").GetDouble());
            Assert.Equal(["Biscoe", "Dream"], features[2].GetProperty("categories").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("species", preprocessing.GetProperty("target").GetProperty("name").GetString());
            Assert.Equal("Error", preprocessing.GetProperty("missingValue").GetString());
        }

        // The weights entry is plain safetensors of the model's state dict.
        using var weights = new MemoryStream();
        using (var entry = zip.GetEntry(ModelFile.WeightsEntry)!.Open()) entry.CopyTo(weights);
        weights.Position = 0;
        var state = Safetensors.Read(weights, "entry");
        AssertSameState(Snapshot(model), state);
        foreach (var t in state.Values) t.Dispose();
    }

    [Fact]
    public void The_processor_and_target_survive_the_round_trip()
    {
        var table = new TabularTable(["a", "color", "y"], Enumerable.Range(0, 20).Select(i => new object?[]
        {
            i == 3 ? "NA" : (i * 1.1).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            i == 4 ? null : new[] { "red", "green", "blue", "10", "2" }[i % 5],
            i % 2 == 0 ? "p" : "q",
        }).ToList());
        var dd = TabularDatasets.FromTable(table, new TabularOptions("y") { MissingValue = MissingValuePolicy.Mean });
        var processor = dd.Processor!;
        Assert.NotNull(processor.Features[0].Fill);
        Assert.NotNull(processor.Features[1].Fill);
        var path = PathOf("p.isaac");
        ModelFile.Save(path, new Predictor(new Mlp(processor.Width, [4], 2), processor: processor));
        var loaded = ModelFile.Load(path);

        var back = loaded.Processor!;
        Assert.NotSame(processor, back);
        Assert.Equal(processor.Target, back.Target);
        Assert.Equal(processor.Features, back.Features); // each FeatureColumn equal: kind, mean, std (bit for bit), categories, fill
        Assert.Equal(processor.MissingValue, back.MissingValue);
        Assert.Equal(processor.Width, back.Width);
        Assert.Equal(processor.Target, loaded.Target);
        using var expected = processor.Transform(table);
        using var actual = back.Transform(table);
        Assert.True(TestData.Same(expected, actual));
    }

    [Fact]
    public void A_regression_target_round_trips_and_predicts_in_its_units()
    {
        random.manual_seed(4);
        var target = TargetSpec.Regression("price", 1234.5, 321.25);
        var model = new Mlp(3, [5], 1);
        var original = new Predictor(model, target);
        var path = PathOf("r.isaac");
        ModelFile.Save(path, original);
        var loaded = ModelFile.Load(path);
        Assert.Equal(target, loaded.Target);
        Assert.Null(loaded.Processor);

        using var x = randn(6, 3);
        var predictions = loaded.Predict(x);
        AssertSamePredictions(original.Predict(x), predictions);
        using var outputs = loaded.Outputs(x);
        var raw = outputs.data<float>().ToArray();
        for (int i = 0; i < raw.Length; i++) Assert.Equal(raw[i] * 321.25 + 1234.5, (double)predictions[i].Value, 9);
    }

    [Fact]
    public void A_model_without_a_target_round_trips_as_raw_outputs()
    {
        random.manual_seed(5);
        var original = new Predictor(new SimpleNet(4, 5, 2));
        var path = PathOf("raw.isaac");
        ModelFile.Save(path, original);
        var loaded = ModelFile.Load(path);
        Assert.IsType<SimpleNet>(loaded.Model);
        Assert.Null(loaded.Target);
        using var x = randn(3, 4);
        var predictions = loaded.Predict(x);
        AssertSamePredictions(original.Predict(x), predictions);
        Assert.Equal(2, Assert.IsType<double[]>(predictions[0].Value).Length);
    }

    [Fact]
    public void A_ConvNet_is_rebuilt_from_its_options()
    {
        random.manual_seed(6);
        var model = new ConvNet(new ConvNetOptions(InputChannels: 2, Channels: [4, 8], OutputSize: 5, KernelSize: 5));
        using var x = randn(3, 2, 16, 16);
        using var y = tensor(new long[] { 0, 3, 4 });
        Train(model, x, y, steps: 2);
        var path = PathOf("conv.isaac");
        ModelFile.Save(path, new Predictor(model));
        var loaded = ModelFile.Load(path);
        var rebuilt = Assert.IsType<ConvNet>(loaded.Model);
        Assert.Equal([4, 8], rebuilt.Options.Channels);
        Assert.Equal(2, rebuilt.Options.InputChannels);
        Assert.Equal(5, rebuilt.Options.KernelSize);
        using var expected = new Predictor(model).Outputs(x);
        using var actual = loaded.Outputs(x);
        Assert.True(TestData.Same(expected, actual));
    }

    [Fact]
    public void A_model_of_your_own_needs_an_instance_to_load_into()
    {
        random.manual_seed(7);
        var model = new Tiny();
        var target = TargetSpec.Classification("t", ["x", "y", "z"]);
        var path = PathOf("tiny.isaac");
        ModelFile.Save(path, new Predictor(model, target));

        using (var zip = ZipFile.OpenRead(path))
        using (var manifest = JsonDocument.Parse(zip.GetEntry(ModelFile.ManifestEntry)!.Open()))
        {
            Assert.Equal(JsonValueKind.Null, manifest.RootElement.GetProperty("architecture").ValueKind);
            Assert.Equal(typeof(Tiny).FullName, manifest.RootElement.GetProperty("modelType").GetString());
        }

        var error = Assert.Throws<ArgumentException>(() => ModelFile.Load(path));
        Assert.Contains(typeof(Tiny).FullName!, error.Message);
        Assert.Contains("pass a new instance", error.Message);

        var fresh = new Tiny();
        var loaded = ModelFile.Load(path, fresh);
        Assert.Same(fresh, loaded.Model);
        Assert.Equal(target, loaded.Target);
        using var x = randn(4, 4);
        using var expected = new Predictor(model).Outputs(x);
        using var actual = loaded.Outputs(x);
        Assert.True(TestData.Same(expected, actual));
    }

    [Fact]
    public void A_model_of_the_wrong_architecture_is_an_error_naming_the_key_and_shapes_and_keeps_its_weights()
    {
        random.manual_seed(8);
        var path = PathOf("m.isaac");
        ModelFile.Save(path, new Predictor(new Mlp(4, [8, 6], 3, batchNorm: true)));

        var wrong = new Mlp(4, [8, 5], 3, batchNorm: true);
        var before = Snapshot(wrong);
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path, wrong));
        Assert.Contains(path, error.Message);
        Assert.Contains("nothing was loaded", error.Message);
        Assert.Contains("'layers.3.weight' is [6, 8] in the file but [5, 8] in the model", error.Message);
        Assert.Contains("'layers.6.weight' is [3, 6] in the file but [3, 5] in the model", error.Message);
        AssertSameState(before, wrong.state_dict());

        // The wrong kind of layers entirely: keys missing and keys extra.
        var plain = new Mlp(4, [8, 6], 3);
        before = Snapshot(plain);
        error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path, plain));
        Assert.Contains("missing from the file", error.Message);
        Assert.Contains("'layers.2.weight'", error.Message); // the model's second Linear is layers.2 without batch norm
        Assert.Contains("in the file but not in the model", error.Message);
        Assert.Contains("'layers.1.running_mean'", error.Message);
        AssertSameState(before, plain.state_dict());
    }

    [Fact]
    public void A_truncated_model_file_is_a_clear_error()
    {
        var (model, dd) = TrainedMlp();
        var path = PathOf("t.isaac");
        ModelFile.Save(path, new Predictor(model, processor: dd.Processor));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("not an Isaacai model file", error.Message);
    }

    [Fact]
    public void A_damaged_weights_entry_is_a_clear_error()
    {
        var (model, dd) = TrainedMlp();
        var path = PathOf("d.isaac");
        ModelFile.Save(path, new Predictor(model, processor: dd.Processor));
        long start, length;
        using (var zip = ZipFile.OpenRead(path))
        {
            var entry = zip.GetEntry(ModelFile.WeightsEntry)!;
            length = entry.CompressedLength;
        }
        var bytes = File.ReadAllBytes(path);
        // The weights entry's local header (30 bytes, then its name and extra field) comes before the central directory's copy of its name.
        var name = Encoding.ASCII.GetBytes(ModelFile.WeightsEntry);
        int header = bytes.AsSpan().IndexOf(name) - 30;
        Assert.Equal(0x04034b50u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(header)));
        start = header + 30 + name.Length + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(header + 28));
        for (long i = start + length / 4; i < start + length * 3 / 4; i++) bytes[i] ^= 0x5a;
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("weights.safetensors is corrupt", error.Message);
    }

    private void WriteZip(string path, params (string Name, byte[] Content)[] entries)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, content) in entries)
        {
            using var stream = zip.CreateEntry(name).Open();
            stream.Write(content);
        }
    }

    private static byte[] Manifest(string format = "isaacai-model", int version = 1) => Encoding.UTF8.GetBytes(
        $$$"""{"format":"{{{format}}}","formatVersion":{{{version}}},"createdBy":"test","created":"2024-01-01T00:00:00+00:00","modelType":"Isaacai.Models.Mlp","architecture":{"kind":"Mlp","options":{"inputSize":4,"hiddenSize":[3],"outputSize":2}},"target":null,"preprocessing":null}""");

    [Fact]
    public void A_zip_that_is_not_a_model_file_is_a_clear_error()
    {
        var noManifest = PathOf("photos.zip");
        WriteZip(noManifest, ("cat.txt", "meow"u8.ToArray()));
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(noManifest));
        Assert.Contains(noManifest, error.Message);
        Assert.Contains("no manifest.json", error.Message);

        var otherFormat = PathOf("other.isaac");
        WriteZip(otherFormat, (ModelFile.ManifestEntry, Manifest(format: "something-else")), (ModelFile.WeightsEntry, SomeSafetensors()));
        error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(otherFormat));
        Assert.Contains("format 'something-else'", error.Message);

        var future = PathOf("future.isaac");
        WriteZip(future, (ModelFile.ManifestEntry, Manifest(version: 2)), (ModelFile.WeightsEntry, SomeSafetensors()));
        error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(future));
        Assert.Contains("format version 2", error.Message);

        var badJson = PathOf("badjson.isaac");
        WriteZip(badJson, (ModelFile.ManifestEntry, "{ this is not json"u8.ToArray()));
        error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(badJson));
        Assert.Contains("manifest.json cannot be read", error.Message);

        var noWeights = PathOf("noweights.isaac");
        WriteZip(noWeights, (ModelFile.ManifestEntry, Manifest()));
        error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(noWeights));
        Assert.Contains("no weights.safetensors", error.Message);

        var badArchitecture = PathOf("badarch.isaac");
        WriteZip(badArchitecture, (ModelFile.ManifestEntry, Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Manifest()).Replace("\"kind\":\"Mlp\"", "\"kind\":\"Transformer\""))));
        error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(badArchitecture));
        Assert.Contains("Unknown model kind 'Transformer'", error.Message);
    }

    [Fact]
    public void A_text_file_is_not_a_model_file()
    {
        var path = PathOf("readme.isaac");
        File.WriteAllText(path, "Hello! This file is only text.\n");
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path, new Mlp(4, [3], 2)));
        Assert.Contains(path, error.Message);
        Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
    }

    [Fact]
    public void Saving_leaves_no_temporary_file_and_replaces_an_existing_one()
    {
        random.manual_seed(9);
        var path = PathOf("m.isaac");
        var first = new Mlp(4, [3], 2);
        ModelFile.Save(path, new Predictor(first));
        Assert.Equal([path], Files());

        var second = new Mlp(4, [3], 2);
        ModelFile.Save(path, new Predictor(second));
        Assert.Equal([path], Files());
        AssertSameState(Snapshot(second), ModelFile.Load(path).Model.state_dict());

        var weights = PathOf("w.safetensors");
        ModelFile.SaveWeights(weights, second);
        Assert.Equal([path, weights], Files().Order());
    }

    [Fact]
    public void A_save_that_fails_part_way_leaves_the_old_file_intact_and_no_temporary_file()
    {
        random.manual_seed(10);
        var path = PathOf("keep.isaac");
        ModelFile.Save(path, new Predictor(new Mlp(4, [3], 2)));
        var before = File.ReadAllBytes(path);

        var error = Assert.Throws<ArgumentException>(() => ModelFile.Save(path, new Predictor(new WithComplexBuffer())));
        Assert.Contains("'phase'", error.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Files());
        Assert.IsType<Mlp>(ModelFile.Load(path).Model); // still loads

        var weights = PathOf("w.safetensors");
        Assert.Throws<ArgumentException>(() => ModelFile.SaveWeights(weights, new WithComplexBuffer()));
        Assert.False(File.Exists(weights));
        Assert.Equal([path], Files());
    }
}
