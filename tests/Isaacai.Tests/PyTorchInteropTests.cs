using System.Text;
using System.Text.Json;
using Isaacai.Inference;
using Isaacai.Models;
using Isaacai.SavedModels;
using static TorchSharp.torch;

namespace Isaacai.Tests;

/// <summary>Weights made by PyTorch 1.13 (tests/fixtures/pytorch, see its README) load into our Mlp and give PyTorch's outputs.</summary>
public sealed class PyTorchInteropTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("isaacai-interop-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Fixture(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fixtures", "pytorch", name);
        Assert.True(File.Exists(path), $"{path} should be copied beside the tests");
        return path;
    }

    private static readonly string[] Keys =
    [
        "layers.0.weight", "layers.0.bias",
        "layers.1.weight", "layers.1.bias", "layers.1.running_mean", "layers.1.running_var", "layers.1.num_batches_tracked",
        "layers.3.weight", "layers.3.bias",
        "layers.4.weight", "layers.4.bias", "layers.4.running_mean", "layers.4.running_var", "layers.4.num_batches_tracked",
        "layers.6.weight", "layers.6.bias",
    ];

    private static Mlp NewMlp() => new(4, [8, 6], 3, batchNorm: true);

    private static (float[,] Inputs, float[,] Outputs) InputsAndOutputs()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Fixture("mlp-io.json")));
        float[,] Read(string name)
        {
            var rows = json.RootElement.GetProperty(name).EnumerateArray().Select(r => r.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
            var result = new float[rows.Length, rows[0].Length];
            for (int i = 0; i < rows.Length; i++) for (int j = 0; j < rows[i].Length; j++) result[i, j] = rows[i][j];
            return result;
        }
        return (Read("inputs"), Read("outputs"));
    }

    private static Dictionary<string, Tensor> Snapshot(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    private static void AssertSameState(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, tensor) in expected)
        {
            Assert.Equal(tensor.dtype, actual[key].dtype);
            Assert.Equal(tensor.shape, actual[key].shape);
            Assert.True(tensor.bytes.SequenceEqual(actual[key].bytes), $"'{key}' differs");
        }
    }

    private static void Dispose(Dictionary<string, Tensor> state)
    {
        foreach (var tensor in state.Values) tensor.Dispose();
    }

    [Fact]
    public void Our_Mlp_has_PyTorchs_state_dict_keys_shapes_and_dtypes()
    {
        var model = NewMlp();
        var state = model.state_dict();
        Assert.Equal(Keys.Order(), state.Keys.Order());
        Assert.Equal([8L, 4], state["layers.0.weight"].shape);
        Assert.Equal([6L, 8], state["layers.3.weight"].shape);
        Assert.Equal(ScalarType.Int64, state["layers.1.num_batches_tracked"].dtype);
        Assert.Equal(0, state["layers.4.num_batches_tracked"].dim());
    }

    [Theory]
    [InlineData("mlp.pt")]
    [InlineData("mlp.safetensors")]
    public void PyTorch_weights_load_and_give_PyTorchs_outputs(string file)
    {
        var path = Fixture(file);
        var state = StateDicts.Read(path);
        try
        {
            Assert.Equal(Keys.Order(), state.Keys.Order());
            Assert.Equal(ScalarType.Float32, state["layers.3.weight"].dtype);
            Assert.Equal(ScalarType.Int64, state["layers.1.num_batches_tracked"].dtype);
            Assert.Equal(5L, state["layers.1.num_batches_tracked"].item<long>());

            var model = NewMlp();
            StateDicts.LoadInto(model, state, path);
            AssertSameState(state, model.state_dict());
            Assert.Equal(5L, model.state_dict()["layers.4.num_batches_tracked"].item<long>());
        }
        finally { Dispose(state); }
    }

    [Theory]
    [InlineData("mlp.pt")]
    [InlineData("mlp.safetensors")]
    public void Outputs_match_PyTorchs_in_eval_mode(string file)
    {
        var path = Fixture(file);
        var model = NewMlp();
        var state = StateDicts.Read(path);
        try { StateDicts.LoadInto(model, state, path); }
        finally { Dispose(state); }

        var (inputs, outputs) = InputsAndOutputs();
        Assert.Equal(5, inputs.GetLength(0));
        using var x = tensor(inputs);
        model.eval();
        using (no_grad())
        {
            using var y = model.call(x);
            Assert.Equal([5L, 3], y.shape);
            var actual = y.data<float>().ToArray();
            for (int i = 0; i < 5; i++)
                for (int j = 0; j < 3; j++)
                    Assert.True(Math.Abs(outputs[i, j] - actual[i * 3 + j]) <= 1e-5, $"output [{i}, {j}]: PyTorch {outputs[i, j]}, ours {actual[i * 3 + j]}");
        }

        // Through a predictor too (which sets eval mode itself), whatever mode the model was in.
        model.train();
        using var viaPredictor = new Predictor(model).Outputs(x);
        using var expected = tensor(outputs);
        Assert.True(viaPredictor.allclose(expected, rtol: 0, atol: 1e-5));
        Assert.True(model.training);
    }

    [Fact]
    public void The_pt_and_safetensors_files_hold_the_same_tensors()
    {
        var pt = StateDicts.Read(Fixture("mlp.pt"));
        var safetensors = StateDicts.Read(Fixture("mlp.safetensors"));
        try { AssertSameState(pt, safetensors); }
        finally { Dispose(pt); Dispose(safetensors); }
    }

    [Fact]
    public void A_missing_key_is_named_and_nothing_is_loaded()
    {
        var path = Fixture("mlp-missing-key.pt");
        var model = NewMlp();
        var before = Snapshot(model);
        var state = StateDicts.Read(path);
        try
        {
            Assert.Equal(15, state.Count);
            var error = Assert.Throws<InvalidDataException>(() => StateDicts.LoadInto(model, state, path));
            Assert.Contains(path, error.Message);
            Assert.Contains("missing from the file: 'layers.4.bias'", error.Message);
            Assert.DoesNotContain("not in the model", error.Message);
            AssertSameState(before, model.state_dict());
        }
        finally { Dispose(state); }
    }

    [Fact]
    public void An_extra_key_is_named_and_nothing_is_loaded()
    {
        var path = Fixture("mlp-extra-key.pt");
        var model = NewMlp();
        var before = Snapshot(model);
        var state = StateDicts.Read(path);
        try
        {
            Assert.Equal([0f, 1, 2, 3, 4, 5], state["layers.9.weight"].data<float>().ToArray());
            var error = Assert.Throws<InvalidDataException>(() => StateDicts.LoadInto(model, state, path));
            Assert.Contains("in the file but not in the model: 'layers.9.weight'", error.Message);
            Assert.DoesNotContain("missing", error.Message);
            AssertSameState(before, model.state_dict());
        }
        finally { Dispose(state); }
    }

    [Fact]
    public void Wrong_shapes_are_named_with_both_shapes_and_nothing_is_loaded()
    {
        var path = Fixture("mlp-wrong-shape.pt");
        var model = NewMlp();
        var before = Snapshot(model);
        var state = StateDicts.Read(path);
        try
        {
            var error = Assert.Throws<InvalidDataException>(() => StateDicts.LoadInto(model, state, path));
            Assert.Contains(path, error.Message);
            Assert.Contains("'layers.3.weight' is [5, 8] in the file but [6, 8] in the model", error.Message);
            Assert.Contains("'layers.4.running_var' is [5] in the file but [6] in the model", error.Message);
            Assert.Contains("'layers.6.weight' is [3, 5] in the file but [3, 6] in the model", error.Message);
            Assert.DoesNotContain("'layers.0.weight'", error.Message); // the layers that fit are not listed
            Assert.DoesNotContain("'layers.6.bias'", error.Message);
            AssertSameState(before, model.state_dict()); // not even the layers that would fit
        }
        finally { Dispose(state); }
    }

    [Fact]
    public void A_wrong_dtype_is_named_and_nothing_is_loaded()
    {
        var state = StateDicts.Read(Fixture("mlp.pt"));
        try
        {
            var doubled = state["layers.6.bias"].to_type(ScalarType.Float64);
            state["layers.6.bias"].Dispose();
            state["layers.6.bias"] = doubled;
            var model = NewMlp();
            var before = Snapshot(model);
            var error = Assert.Throws<InvalidDataException>(() => StateDicts.LoadInto(model, state, "doubled"));
            Assert.Contains("'layers.6.bias' is Float64 in the file but Float32 in the model", error.Message);
            AssertSameState(before, model.state_dict());
        }
        finally { Dispose(state); }
    }

    [Fact]
    public void Our_safetensors_read_back_as_the_models_state_dict()
    {
        var model = NewMlp();
        var state = StateDicts.Read(Fixture("mlp.pt"));
        try { StateDicts.LoadInto(model, state, "mlp.pt"); }
        finally { Dispose(state); }

        var path = Path.Combine(_folder, "ours.safetensors");
        ModelFile.SaveWeights(path, model);
        var back = StateDicts.Read(path);
        try
        {
            AssertSameState(Snapshot(model), back);
            // In the order of the state dict, as PyTorch writes them.
            Assert.Equal(model.state_dict().Keys, back.Keys);
        }
        finally { Dispose(back); }

        // And the same bytes as PyTorch's own safetensors, tensor for tensor.
        var theirs = StateDicts.Read(Fixture("mlp.safetensors"));
        back = StateDicts.Read(path);
        try { AssertSameState(theirs, back); }
        finally { Dispose(theirs); Dispose(back); }
    }

    [Fact]
    public void Plain_weights_load_as_a_predictor_of_raw_outputs_given_a_model()
    {
        var path = Fixture("mlp.pt");
        var error = Assert.Throws<ArgumentException>(() => ModelFile.Load(path));
        Assert.Contains("only weights", error.Message);

        var model = NewMlp();
        var predictor = ModelFile.Load(path, model);
        Assert.Same(model, predictor.Model);
        Assert.Null(predictor.Target);
        var (inputs, outputs) = InputsAndOutputs();
        using var x = tensor(inputs);
        var predictions = predictor.Predict(x);
        for (int i = 0; i < 5; i++)
        {
            var raw = Assert.IsType<double[]>(predictions[i].Value);
            for (int j = 0; j < 3; j++) Assert.Equal(outputs[i, j], raw[j], 1e-5);
        }

        var wrong = new Mlp(4, [8, 6], 3, batchNorm: true);
        var before = Snapshot(wrong);
        Assert.Throws<InvalidDataException>(() => ModelFile.Load(Fixture("mlp-wrong-shape.pt"), wrong));
        AssertSameState(before, wrong.state_dict());
    }

    [Fact]
    public void A_legacy_pickle_file_is_rejected_with_advice()
    {
        var path = Path.Combine(_folder, "legacy.pt");
        // What torch.save(..., _use_new_zipfile_serialization=False) begins with: pickle protocol 2, then a magic number.
        File.WriteAllBytes(path, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
        var error = Assert.Throws<InvalidDataException>(() => StateDicts.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("legacy format", error.Message);
        Assert.Contains("safetensors", error.Message);
    }

    [Fact]
    public void A_zip_that_is_not_a_PyTorch_file_is_rejected_clearly()
    {
        var garbage = Path.Combine(_folder, "garbage.pt");
        var bytes = new byte[300];
        new Random(2).NextBytes(bytes);
        "PK\u0003\u0004"u8.CopyTo(bytes);
        File.WriteAllBytes(garbage, bytes);
        var error = Assert.Throws<InvalidDataException>(() => StateDicts.Read(garbage));
        Assert.Contains(garbage, error.Message);
        Assert.Contains("not a PyTorch state dict", error.Message);

        // A real zip, but of something else: our own model file is not a state dict.
        var isaac = Path.Combine(_folder, "model.isaac");
        ModelFile.Save(isaac, new Predictor(NewMlp()));
        error = Assert.Throws<InvalidDataException>(() => StateDicts.Read(isaac));
        Assert.Contains(isaac, error.Message);
        Assert.Contains("not a PyTorch state dict", error.Message);
    }

    [Fact]
    public void An_empty_or_tiny_file_is_rejected_clearly()
    {
        var empty = Path.Combine(_folder, "empty.pt");
        File.WriteAllBytes(empty, []);
        var error = Assert.Throws<InvalidDataException>(() => StateDicts.Read(empty));
        Assert.Contains(empty, error.Message);

        var tiny = Path.Combine(_folder, "tiny.pt");
        File.WriteAllBytes(tiny, "PK"u8.ToArray());
        error = Assert.Throws<InvalidDataException>(() => StateDicts.Read(tiny));
        Assert.Contains(tiny, error.Message);
    }

    [Fact]
    public void Files_are_told_apart_by_content_not_by_extension()
    {
        var pt = Path.Combine(_folder, "weights.safetensors");
        File.Copy(Fixture("mlp.pt"), pt);
        var safetensors = Path.Combine(_folder, "weights.pt");
        File.Copy(Fixture("mlp.safetensors"), safetensors);
        var a = StateDicts.Read(pt);
        var b = StateDicts.Read(safetensors);
        try
        {
            Assert.Equal(16, a.Count);
            AssertSameState(a, b);
        }
        finally { Dispose(a); Dispose(b); }
    }
}
