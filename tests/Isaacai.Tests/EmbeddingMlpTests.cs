using System.Text.Json;
using Isaacai.Callbacks;
using Isaacai.Checkpoints;
using Isaacai.Data;
using Isaacai.Data.Tabular;
using Isaacai.Inference;
using Isaacai.Models;
using Isaacai.SavedModels;
using static TorchSharp.torch;

namespace Isaacai.Tests;

/// <summary>The model for embedded category columns: its layout, PyTorch's weights, training, saving and predicting.</summary>
public sealed class EmbeddingMlpTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("isaacai-embedding-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>The fixture's architecture: inputs 1 and 4 index embeddings of 5 × 3 and 7 × 4, then Mlp(11, [8], 2) with batch norm.</summary>
    private static EmbeddingMlp FixtureModel() => new(new EmbeddingMlpOptions(6, [new("a", 1, 5, 3), new("b", 4, 7, 4)], [8], 2, BatchNorm: true));

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "pytorch", name);

    /// <summary>
    /// 240 rows: x (a number), colour (3 categories), shop (40 categories, s00…s39), y (a class that depends on the
    /// shop alone, so only a model that tells the shops apart can learn it).
    /// </summary>
    private static TabularTable Shops()
    {
        var rows = Enumerable.Range(0, 240).Select(i => new object?[]
        {
            (i * 37 % 100) / 10.0, new[] { "red", "green", "blue" }[i % 3], $"s{i % 40:D2}", (i % 40) * 7 % 3 == 0 ? "yes" : "no",
        }).ToList();
        return new TabularTable(["x", "colour", "shop", "y"], rows);
    }

    [Theory]
    [InlineData(2, 2)]     // 1.6 × 2^0.56 = 2.36
    [InlineData(3, 3)]
    [InlineData(10, 6)]    // 5.81
    [InlineData(100, 21)]  // 20.98
    [InlineData(1000, 77)] // 76.6
    [InlineData(3176, 146)]
    [InlineData(100_000, 600)] // 1010, capped
    public void Sizes_follow_fastais_rule(int rows, int size) => Assert.Equal(size, EmbeddingMlpOptions.SizeRule(rows));

    [Fact]
    public void Its_state_dict_has_PyTorchs_keys_shapes_and_dtypes()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Fixture("embedding-mlp-io.json")));
        var expected = json.RootElement.GetProperty("keys").EnumerateArray()
            .Select(k => (k[0].GetString()!, k[1].EnumerateArray().Select(d => d.GetInt64()).ToArray(), k[2].GetString()!)).ToList();
        using var model = FixtureModel();
        // TorchSharp lists a module's parameters before its buffers; PyTorch goes layer by layer: the same entries.
        var actual = model.state_dict().Select(kv => (kv.Key, kv.Value.shape, kv.Value.dtype == ScalarType.Int64 ? "int64" : "float32"))
            .OrderBy(a => expected.FindIndex(e => e.Item1 == a.Key)).ToList();
        Assert.Equal(expected.Count, model.state_dict().Count);
        Assert.Equal(expected.Select(e => e.Item1), actual.Select(a => a.Key));
        Assert.Equal(expected.Select(e => e.Item2), actual.Select(a => a.shape));
        Assert.Equal(expected.Select(e => e.Item3), actual.Select(a => a.Item3));
    }

    [Fact]
    public void PyTorchs_weights_load_and_give_PyTorchs_outputs()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Fixture("embedding-mlp-io.json")));
        float[][] Read(string name) => json.RootElement.GetProperty(name).EnumerateArray().Select(r => r.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
        var inputs = Read("inputs");
        var outputs = Read("outputs");
        using var model = FixtureModel();
        var loaded = ModelFile.Load(Fixture("embedding-mlp.pt"), model);
        using var x = tensor(inputs.SelectMany(r => r).ToArray(), [inputs.Length, 6]);
        using var y = loaded.Outputs(x);
        var actual = y.data<float>().ToArray();
        var flat = outputs.SelectMany(r => r).ToArray();
        Assert.Equal(flat.Length, actual.Length);
        for (int i = 0; i < flat.Length; i++) Assert.True(Math.Abs(flat[i] - actual[i]) <= 1e-5, $"output {i}: PyTorch {flat[i]}, ours {actual[i]}");
    }

    [Fact]
    public void Its_weights_as_safetensors_load_into_a_new_model_of_the_same_options()
    {
        Isaac.SetSeed(9);
        using var model = FixtureModel();
        var path = Path.Combine(_folder, "embedding.safetensors");
        ModelFile.SaveWeights(path, model);
        Isaac.SetSeed(10);
        using var other = FixtureModel();
        var loaded = ModelFile.Load(path, other);
        using var x = tensor(new float[] { 0.5f, 4, -1, 3, 6, 0.25f }, [1, 6]);
        using var expected = new Predictor(model).Outputs(x);
        using var actual = loaded.Outputs(x);
        Assert.Equal(expected.data<float>().ToArray(), actual.data<float>().ToArray());
    }

    [Fact]
    public void Its_forward_is_the_embeddings_looked_up_after_the_other_inputs_then_the_mlp()
    {
        Isaac.SetSeed(3);
        using var model = FixtureModel();
        model.eval();
        using var x = tensor(new float[] { 0.5f, 2, -1, 3, 6, 0.25f, 1, 0, 2, -2, 1, 4 }, [2, 6]);
        using var actual = model.call(x);
        var state = model.state_dict();
        using var scope = NewDisposeScope();
        var others = cat([x.narrow(1, 0, 1), x.narrow(1, 2, 2), x.narrow(1, 5, 1)], 1);
        var a = state["embeds.0.weight"].index_select(0, tensor(new long[] { 2, 0 }));
        var b = state["embeds.1.weight"].index_select(0, tensor(new long[] { 6, 4 }));
        var hidden = cat([others, a, b], 1);
        // Linear, eval-mode batch norm, ReLU, Linear, by hand.
        var z = hidden.matmul(state["mlp.layers.0.weight"].t()) + state["mlp.layers.0.bias"];
        z = (z - state["mlp.layers.1.running_mean"]) / (state["mlp.layers.1.running_var"] + 1e-5).sqrt() * state["mlp.layers.1.weight"] + state["mlp.layers.1.bias"];
        var expected = z.relu().matmul(state["mlp.layers.3.weight"].t()) + state["mlp.layers.3.bias"];
        Assert.True(actual.allclose(expected, rtol: 0, atol: 1e-6));
    }

    [Theory]
    [InlineData(5f, "from 0 to 4; the batch has 5 there")]
    [InlineData(-1f, "from 0 to 4; the batch has -1 there")]
    [InlineData(1.5f, "from 0 to 4; the batch has a value that is not a whole number there")]
    public void An_index_outside_its_embedding_is_one_clear_error(float index, string expected)
    {
        using var model = FixtureModel();
        using var x = tensor(new float[] { 0, index, 0, 0, 1, 0 }, [1, 6]);
        var error = Assert.Throws<ArgumentException>(() => model.call(x));
        Assert.Contains("Input 1 holds the category index of 'a', a whole number " + expected, error.Message);
        using var wrongWidth = zeros(1, 5);
        Assert.Contains("this model takes encoded rows [N, 6]", Assert.Throws<ArgumentException>(() => model.call(wrongWidth)).Message);
    }

    [Fact]
    public void Options_that_no_row_could_have_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EmbeddingMlp(new EmbeddingMlpOptions(3, [new("a", 3, 5, 2)], [4], 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EmbeddingMlp(new EmbeddingMlpOptions(3, [new("a", 0, 0, 2)], [4], 2)));
        Assert.Contains("Two embeddings read input 1", Assert.Throws<ArgumentException>(() => new EmbeddingMlp(new EmbeddingMlpOptions(3, [new("a", 1, 5, 2), new("b", 1, 5, 2)], [4], 2))).Message);
    }

    [Fact]
    public void Options_for_a_processor_size_each_embedded_column_by_the_rule_or_as_asked()
    {
        var processor = TabularDatasets.FromTable(Shops(), new TabularOptions("y") { CategoryEncoding = CategoryEncoding.Auto }).Processor!;
        // x (1), colour one-hot (3: at most 10 categories under Auto), shop embedded (1).
        Assert.Equal(5, processor.Width);
        var shop = Assert.Single(processor.EmbeddedInputs);
        Assert.Equal(new EmbeddedInput("shop", 4, 40), shop);
        var options = EmbeddingMlpOptions.For(processor, [16], 2);
        Assert.Equal(new CategoryEmbedding("shop", 4, 40, EmbeddingMlpOptions.SizeRule(40)), Assert.Single(options.Embeddings));
        Assert.Equal(12, EmbeddingMlpOptions.For(processor, [16], 2, new Dictionary<string, int> { ["SHOP"] = 12 }).Embeddings[0].Size);
        var error = Assert.Throws<ArgumentException>(() => EmbeddingMlpOptions.For(processor, [16], 2, new Dictionary<string, int> { ["colour"] = 2 }));
        Assert.Equal("Embedding sizes are given for 'colour', which is not an embedded column; the embedded columns are: shop.", error.Message);
    }

    [Fact]
    public void It_learns_a_class_that_only_the_embedded_column_tells_and_a_saved_file_predicts_the_same()
    {
        Isaac.SetSeed(7);
        var dd = TabularDatasets.FromTable(Shops(), new TabularOptions("y") { CategoryEncoding = CategoryEncoding.Embedding, ValidFraction = 0.25 });
        var processor = dd.Processor!;
        Assert.Equal(2, processor.EmbeddedInputs.Count); // colour and shop
        var model = new EmbeddingMlp(EmbeddingMlpOptions.For(processor, [32], 2));
        var trainer = new Trainer(DataLoaders.FromDatasetDict(dd, 16), nn.CrossEntropyLoss(), Optimizers.Adam, model,
            [new BasicTrainCB(), new MetricsCB(("Accuracy", new Metrics.MulticlassAccuracy()))], lr: 0.03);
        var checkpoint = Path.Combine(_folder, "shops.isaacckpt");
        trainer.Fit(12);
        Checkpoint.Save(trainer, checkpoint, 12);

        var predictor = Predictor.FromTrainer(trainer);
        var table = Shops();
        var predictions = predictor.Predict(table);
        double accuracy = predictions.Zip(table.Rows).Count(p => (string)p.First.Value == (string)p.Second[3]!) / (double)table.Rows.Count;
        Assert.True(accuracy > 0.95, $"accuracy {accuracy}");

        // The .isaac file rebuilds the model from its manifest, with the processor's embedded columns, and predicts alike.
        var path = Path.Combine(_folder, "shops.isaac");
        ModelFile.Save(path, predictor);
        var loaded = ModelFile.Load(path);
        Assert.IsType<EmbeddingMlp>(loaded.Model);
        Assert.Equal(processor.Features, loaded.Processor!.Features);
        Assert.Equal(processor.EmbeddedInputs, loaded.Processor!.EmbeddedInputs);
        using (var inputs = processor.Transform(table))
        using (var before = predictor.Outputs(inputs))
        using (var after = loaded.Outputs(inputs))
            Assert.Equal(before.data<float>().ToArray(), after.data<float>().ToArray());

        // A file whose model embeds other columns than its preprocessing encodes is refused when read.
        var mismatched = Path.Combine(_folder, "mismatched.isaac");
        ModelFile.Save(mismatched, new Predictor(new EmbeddingMlp(EmbeddingMlpOptions.For(processor, [32], 2) with { Embeddings = [new("colour", 1, 3, 2), new("shop", 2, 30, 4)] }), processor: processor));
        var refused = Assert.Throws<InvalidDataException>(() => ModelFile.Load(mismatched));
        Assert.Equal($"{mismatched}: its model embeds input 1 as one of 3 categories, input 2 as one of 30 categories, but its preprocessing encodes input 1 as one of 3 categories, input 2 as one of 40 categories.", refused.Message);

        // A checkpoint restores the same weights into a fresh model.
        var fresh = new EmbeddingMlp(EmbeddingMlpOptions.For(processor, [32], 2));
        var resumed = new Trainer(DataLoaders.FromDatasetDict(dd, 16), nn.CrossEntropyLoss(), Optimizers.Adam, fresh, [new BasicTrainCB()]);
        using (var saved = Checkpoint.Load(checkpoint, fresh)) Assert.Equal(12, saved.RestoreInto(resumed));
        Assert.Equal(model.state_dict()["embeds.1.weight"].data<float>().ToArray(), fresh.state_dict()["embeds.1.weight"].data<float>().ToArray());
    }
}
