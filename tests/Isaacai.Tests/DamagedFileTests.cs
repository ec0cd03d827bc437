using System.IO.Compression;
using System.Text.Json.Nodes;
using Isaacai.Callbacks;
using Isaacai.Checkpoints;
using Isaacai.Inference;
using Isaacai.Models;
using Isaacai.SavedModels;
using static TorchSharp.torch;

namespace Isaacai.Tests;

/// <summary>Model files and checkpoints with damaged or lying contents: each is one clear error, never a crash or a different model.</summary>
public sealed class DamagedFileTests() : TempFolderTests("isaacai-damaged-")
{
    private Trainer Trained()
    {
        Isaac.SetSeed(4);
        var trainer = new Trainer(Data.DataLoaders.FromDatasetDict(TestData.Synthetic(), 4), nn.CrossEntropyLoss(), Optimizers.Adam,
            new Mlp(4, [8], 3), [new BasicTrainCB()]);
        trainer.Fit(1);
        return trainer;
    }

    /// <summary>The file with <paramref name="name"/>'s entry replaced (the other entries copied as they are).</summary>
    private string Rewritten(string source, string name, Action<Stream> write)
    {
        var target = PathOf($"rewritten-{Guid.NewGuid():N}{Path.GetExtension(source)}");
        using (var input = ZipFile.OpenRead(source))
        using (var output = ZipFile.Open(target, ZipArchiveMode.Create))
            foreach (var entry in input.Entries)
            {
                using var to = output.CreateEntry(entry.FullName).Open();
                if (entry.FullName == name) write(to);
                else { using var from = entry.Open(); from.CopyTo(to); }
            }
        return target;
    }

    public static TheoryData<string, Func<Tensor>> MalformedGenerators => new()
    {
        { "too short", () => zeros(100, dtype: ScalarType.Byte) },
        { "random bytes of the right size", () => randint(0, 256, [5056], dtype: ScalarType.Byte, generator: new Generator(9)) },
        { "floats", () => zeros(1264, dtype: ScalarType.Float32) },
        { "unseeded", () => { var s = random.get_rng_state(); s[12] = 0; return s; } },
        { "left out of range", () => { var s = random.get_rng_state(); s[8] = 0; s[9] = 0; s[10] = 0; s[11] = 0; return s; } },
    };

    [Theory]
    [MemberData(nameof(MalformedGenerators))]
    public void A_malformed_generator_state_is_refused_before_libtorch_sees_it(string what, Func<Tensor> make)
    {
        var trainer = Trained();
        var path = PathOf("good.isaacckpt");
        Checkpoint.Save(trainer, path, 1);
        var bad = Rewritten(path, "state.safetensors", stream => Safetensors.Write(stream, new Dictionary<string, Tensor> { ["torch.rng_state"] = make() }));
        var error = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(bad));
        Assert.Contains(bad, error.Message);
        Assert.Contains("random generator state", error.Message);
        Assert.False(string.IsNullOrEmpty(what));
        // The generator still works and the good checkpoint still restores.
        using var good = Checkpoint.Load(path);
        Assert.Equal(1, good.RestoreInto(trainer));
        using var draw = rand(3);
    }

    /// <summary>Copies of <paramref name="path"/>, each with one bit flipped at a seeded offset: the offset and the copy's path.</summary>
    private IEnumerable<(long Offset, string File)> WithOneFlippedByte(string path, int seed, int count = 60)
    {
        var original = File.ReadAllBytes(path);
        var random = new Random(seed);
        foreach (var offset in Enumerable.Range(0, count).Select(_ => random.NextInt64(original.Length)).Distinct())
        {
            var damaged = (byte[])original.Clone();
            damaged[offset] ^= 0x10;
            var file = PathOf("flipped" + Path.GetExtension(path));
            File.WriteAllBytes(file, damaged);
            yield return (offset, file);
        }
    }

    [Fact]
    public void One_flipped_byte_in_a_model_file_is_an_error_or_changes_nothing()
    {
        var trainer = Trained();
        var path = PathOf("m.isaac");
        ModelFile.Save(path, Predictor.FromTrainer(trainer));
        using var inputs = rand(5, 4, generator: new Generator(1));
        using var expected = Predictor.FromTrainer(trainer).Outputs(inputs);
        int refused = 0;
        foreach (var (offset, file) in WithOneFlippedByte(path, seed: 11))
        {
            Predictor loaded;
            try { loaded = ModelFile.Load(file); }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or IOException) { refused++; continue; }
            using var outputs = loaded.Outputs(inputs);
            Assert.True(TestData.Same(expected, outputs), $"a flip at byte {offset} loaded a different model without an error");
            Assert.Equal(Predictor.FromTrainer(trainer).Target, loaded.Target);
        }
        Assert.True(refused > 30, $"only {refused} of the flips were refused");
    }

    [Fact]
    public void One_flipped_byte_in_a_checkpoint_is_an_error_or_restores_the_same_state()
    {
        var trainer = Trained();
        var path = PathOf("c.isaacckpt");
        Checkpoint.Save(trainer, path, 1);
        var weights = trainer.Model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        using var generator = random.get_rng_state();
        int refused = 0;
        foreach (var (offset, file) in WithOneFlippedByte(path, seed: 12))
        {
            Checkpoint loaded;
            try { loaded = Checkpoint.Load(file); }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or IOException) { refused++; continue; }
            using (loaded)
            {
                try { loaded.RestoreInto(trainer); }
                catch (Exception e) when (e is InvalidDataException or InvalidOperationException or ArgumentException or IOException) { refused++; continue; }
            }
            Assert.All(weights, p => Assert.True(TestData.Same(p.Value, trainer.Model.state_dict()[p.Key]), $"a flip at byte {offset} restored other weights for {p.Key}"));
            using var restored = random.get_rng_state();
            Assert.True(TestData.Same(generator, restored), $"a flip at byte {offset} restored another generator state");
        }
        Assert.True(refused > 30, $"only {refused} of the flips were refused");
    }

    [Fact]
    public void A_weights_entry_larger_than_the_model_is_refused_before_it_is_inflated()
    {
        var trainer = Trained();
        var path = PathOf("m.isaac");
        ModelFile.Save(path, Predictor.FromTrainer(trainer));
        // 64 MB of zeros compress to a few kilobytes: a small file claiming far more than the model's weights.
        var bomb = Rewritten(path, ModelFile.WeightsEntry, stream =>
        {
            var zerosBlock = new byte[1 << 20];
            for (int i = 0; i < 64; i++) stream.Write(zerosBlock);
        });
        Assert.True(new FileInfo(bomb).Length < 1 << 20);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(bomb));
        Assert.Contains("this model's weights can hold at most", error.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "the entry was inflated before it was refused");
    }

    [Fact]
    public void A_checkpoint_weights_entry_larger_than_the_trainer_s_model_is_refused_before_it_is_inflated()
    {
        var trainer = Trained();
        var path = PathOf("c.isaacckpt");
        Checkpoint.Save(trainer, path, 1);
        var bomb = Rewritten(path, "model.safetensors", stream =>
        {
            var zerosBlock = new byte[1 << 20];
            for (int i = 0; i < 64; i++) stream.Write(zerosBlock);
        });
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(bomb, trainer.Model));
        Assert.Contains("this model's weights can hold at most", error.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "the entry was inflated before it was refused");
    }

    [Fact]
    public void Overlapping_safetensors_byte_ranges_are_refused()
    {
        using var stream = new MemoryStream();
        var header = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"""u8.ToArray();
        stream.Write(BitConverter.GetBytes((ulong)header.Length));
        stream.Write(header);
        stream.Write(new byte[12]);
        stream.Position = 0;
        var error = Assert.Throws<InvalidDataException>(() => Safetensors.Read(stream, "lying.safetensors"));
        Assert.Contains("overlap", error.Message);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("random")]
    public void A_damaged_optimizer_state_names_the_file_in_plain_words_and_changes_nothing(string damage)
    {
        var trainer = Trained();
        var path = PathOf("c.isaacckpt");
        Checkpoint.Save(trainer, path, 1);
        byte[] original;
        using (var zip = ZipFile.OpenRead(path)) { using var entry = zip.GetEntry("optimizer.bin")!.Open(); using var copy = new MemoryStream(); entry.CopyTo(copy); original = copy.ToArray(); }
        var bytes = damage == "truncated" ? original[..(original.Length / 2)] : new Random(5).GetItems(Enumerable.Range(0, 256).Select(b => (byte)b).ToArray(), original.Length);
        var bad = Rewritten(path, "optimizer.bin", stream => stream.Write(bytes));
        trainer.Fit(1);
        var weights = trainer.Model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        using var checkpoint = Checkpoint.Load(bad);
        var error = Assert.Throws<InvalidDataException>(() => checkpoint.RestoreInto(trainer));
        Assert.Contains(bad, error.Message);
        Assert.Contains("optimizer.bin is damaged", error.Message);
        Assert.All(error.Message, c => Assert.False(char.IsControl(c), $"control character {(int)c} in the message"));
        Assert.All(weights, p => Assert.True(TestData.Same(p.Value, trainer.Model.state_dict()[p.Key])));
    }

    [Fact]
    public void Inputs_a_model_cannot_take_are_one_clear_error_naming_what_it_takes()
    {
        var rows = new Data.Tabular.TabularTable(["x", "y", "label"], [.. Enumerable.Range(0, 30).Select(i => new object?[] { i * 0.1, (i % 7) * 1.0, i % 2 == 0 ? "a" : "b" })]);
        var dd = Data.Tabular.TabularDatasets.FromTable(rows, new Data.Tabular.TabularOptions("label"));
        var predictor = new Predictor(new Mlp(2, [4], 2), dd.Target, dd.Processor);
        Assert.Contains("this model takes [N, 2] (encoded rows", Assert.Throws<ArgumentException>(() => predictor.Outputs(zeros(3, 5))).Message);
        Assert.Contains("this model takes Float32 tensors", Assert.Throws<ArgumentException>(() => predictor.Outputs(zeros(3, 2, dtype: ScalarType.Float64))).Message);
        Assert.Contains("The inputs are Int64", Assert.Throws<ArgumentException>(() => predictor.Outputs(zeros(3, 2, dtype: ScalarType.Int64))).Message);
        Assert.Contains("add the sample dimension", Assert.Throws<ArgumentException>(() => predictor.Outputs(zeros(2))).Message);
        Assert.Contains("is a folder", Assert.Throws<ArgumentException>(() => ModelFile.Load(Folder)).Message);
    }

    /// <summary>A table model saved, then its manifest changed by <paramref name="lie"/>.</summary>
    private string TableModelWithManifest(Action<JsonObject> lie)
    {
        var rows = new Data.Tabular.TabularTable(["x", "colour", "label"], [.. Enumerable.Range(0, 30).Select(i => new object?[] { i * 0.1, i % 3 == 0 ? "red" : "blue", i % 2 == 0 ? "a" : "b" })]);
        var dd = Data.Tabular.TabularDatasets.FromTable(rows, new Data.Tabular.TabularOptions("label"));
        var path = PathOf("table.isaac");
        ModelFile.Save(path, new Predictor(new Mlp(dd.Processor!.Width, [4], 2), dd.Target, dd.Processor));
        JsonObject manifest;
        using (var zip = ZipFile.OpenRead(path)) using (var entry = zip.GetEntry(ModelFile.ManifestEntry)!.Open()) manifest = JsonNode.Parse(entry)!.AsObject();
        lie(manifest);
        return Rewritten(path, ModelFile.ManifestEntry, stream => { using var writer = new System.Text.Json.Utf8JsonWriter(stream); manifest.WriteTo(writer); });
    }

    [Theory]
    [InlineData("std 0", "positive finite standard deviation")]
    [InlineData("a category twice", "lists a category twice")]
    [InlineData("another target", "names two different targets")]
    [InlineData("one more category", "its model does not take the inputs its preprocessing makes ([N, 4])")]
    [InlineData("one more class", "its model gives 2 outputs per sample, but its target 'label' needs 3")]
    public void A_manifest_that_lies_about_its_preprocessing_is_refused(string lie, string expected)
    {
        var path = TableModelWithManifest(manifest =>
        {
            var features = manifest["preprocessing"]!["features"]!.AsArray();
            switch (lie)
            {
                case "std 0": features.First(f => f!["kind"]!.GetValue<string>() == "Numeric")!["std"] = 0; break;
                case "a category twice": features.First(f => f!["kind"]!.GetValue<string>() == "Category")!["categories"]!.AsArray().Add("red"); break;
                case "one more category": features.First(f => f!["kind"]!.GetValue<string>() == "Category")!["categories"]!.AsArray().Add("green"); break;
                case "one more class":
                    manifest["target"]!["classes"] = new JsonArray("a", "b", "c");
                    manifest["preprocessing"]!["target"]!["classes"] = new JsonArray("a", "b", "c");
                    break;
                default: manifest["target"]!["classes"] = new JsonArray("a", "c"); break;
            }
        });
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains(expected, error.Message);
    }
}
