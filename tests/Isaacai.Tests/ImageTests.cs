using Isaacai.Callbacks;
using Isaacai.Checkpoints;
using Isaacai.Data;
using Isaacai.Data.Images;
using Isaacai.Inference;
using Isaacai.Metrics;
using Isaacai.Models;
using Isaacai.SavedModels;
using SkiaSharp;
using static TorchSharp.torch;

namespace Isaacai.Tests;

/// <summary>Image files from the shipped Fashion-MNIST sample, written at test time, through datasets, fits and saved models.</summary>
public sealed class ImageTests() : TempFolderTests("isaacai-images-")
{
    private static readonly DatasetDict Sample = FashionMnist.LoadSample();

    /// <summary>The first <paramref name="count"/> train samples as files in class folders under <paramref name="folder"/>.</summary>
    private static IReadOnlyList<string> WriteSample(string folder, int count, string extension = ".png", int skip = 0)
    {
        var train = Sample["train"].Tensors();
        using var x = train.X.narrow(0, skip, count);
        var labels = train.Y.narrow(0, skip, count).data<long>().ToArray();
        return ImageFiles.SaveAll(x, labels, Sample.Target!.Classes, folder, extension, FashionMnist.Mean, FashionMnist.Std);
    }

    private static ImagePipeline Plain(int height, int width, int channels = 1, ResizeMethod resize = ResizeMethod.Squish) =>
        new(height, width, channels, resize, Enumerable.Repeat(0.0, channels).ToArray(), Enumerable.Repeat(1.0, channels).ToArray());

    private static float[] Decode(string path, ImagePipeline pipeline)
    {
        var values = new float[pipeline.SampleLength];
        ImageDecoder.Decode(path, pipeline, values);
        return values;
    }

    private string WriteBitmap(string name, int width, int height, Func<int, int, SKColor> color, SKEncodedImageFormat format = SKEncodedImageFormat.Png, SKColorType type = SKColorType.Rgba8888)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, type, type == SKColorType.Gray8 ? SKAlphaType.Opaque : SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) bitmap.SetPixel(x, y, color(x, y));
        using var data = bitmap.Encode(format, 100);
        var path = PathOf(name);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    [Fact]
    public void A_folder_of_class_folders_becomes_a_stratified_dataset_with_measured_statistics()
    {
        WriteSample(PathOf("fm"), 300);
        var dd = ImageFolders.FromFolder(PathOf("fm"), new ImageDatasetOptions { Height = 28, Width = 28, Channels = 1 });
        Assert.Equal(Sample.Target!.Classes.Select(ImageFiles.FolderName).Order(StringComparer.Ordinal), dd.Target!.Classes);
        Assert.Contains("T-shirt_top", dd.Target.Classes);
        var train = Assert.IsType<ImageDataset>(dd["train"]);
        var valid = Assert.IsType<ImageDataset>(dd["valid"]);
        Assert.Equal(300, train.Count + valid.Count);
        // 20% of each class is held out: the counts per class agree to one image.
        foreach (var group in train.Labels.GroupBy(l => l))
            Assert.InRange(valid.Labels.Count(l => l == group.Key), (int)Math.Floor(0.2 * (group.Count() + valid.Labels.Count(l => l == group.Key))), (int)Math.Ceiling(0.2 * (group.Count() + valid.Labels.Count(l => l == group.Key))));
        Assert.Equal([1L, 28, 28], train.InputShape);
        // The measured mean of these images is close to the mean the seed uses for all of Fashion-MNIST.
        Assert.InRange(dd.Images!.Mean[0], FashionMnist.Mean - 0.04, FashionMnist.Mean + 0.04);
        Assert.InRange(dd.Images.Std[0], FashionMnist.Std - 0.04, FashionMnist.Std + 0.04);
        // Each file's label is the folder it sits in.
        for (int i = 0; i < train.Count; i++) Assert.Equal(dd.Target.Classes[(int)train.Labels[i]], Path.GetFileName(Path.GetDirectoryName(train.Paths[i])));
    }

    [Fact]
    public void A_png_reads_back_as_the_tensor_it_was_written_from()
    {
        var path = WriteSample(PathOf("one"), 1).Single();
        var decoded = Decode(path, Plain(28, 28));
        using var original = Sample["train"].Tensors().X[0].mul(FashionMnist.Std).add(FashionMnist.Mean).flatten();
        var expected = original.data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], decoded[i], 0.5f / 255 + 1e-6f);
    }

    [Fact]
    public void Crop_squish_and_pad_keep_what_fastai_keeps()
    {
        // 40 wide, 20 high; only the leftmost quarter is white.
        var path = WriteBitmap("wide.png", 40, 20, (x, _) => x < 10 ? SKColors.White : SKColors.Black);
        var crop = Decode(path, Plain(20, 20, resize: ResizeMethod.Crop));
        var squish = Decode(path, Plain(20, 20, resize: ResizeMethod.Squish));
        var pad = Decode(path, Plain(20, 20, resize: ResizeMethod.Pad));
        float At(float[] image, int y, int x) => image[y * 20 + x];
        Assert.All(crop, v => Assert.Equal(0, v, 0.01f));            // the centred square misses the white quarter
        Assert.Equal(1, At(squish, 10, 2), 0.01f);                   // the whole width, squeezed: white at the left
        Assert.Equal(0, At(squish, 10, 15), 0.01f);
        Assert.Equal(0, At(pad, 2, 2), 0.01f);                       // a black bar above the image
        Assert.Equal(1, At(pad, 10, 2), 0.01f);
        Assert.Equal(0, At(pad, 10, 15), 0.01f);
    }

    /// <summary>A JPEG with an EXIF orientation tag inserted after its start marker.</summary>
    private string WithExifOrientation(string jpeg, ushort orientation)
    {
        var bytes = File.ReadAllBytes(jpeg);
        byte[] tiff = [(byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, (byte)(orientation >> 8), (byte)orientation, 0, 0, 0, 0, 0, 0];
        var app1 = new List<byte> { 0xFF, 0xE1, 0, (byte)(2 + 6 + tiff.Length) };
        app1.AddRange("Exif\0\0"u8.ToArray());
        app1.AddRange(tiff);
        var result = bytes[..2].Concat(app1).Concat(bytes[2..]).ToArray();
        var path = Path.ChangeExtension(jpeg, $".exif{orientation}.jpg");
        File.WriteAllBytes(path, result);
        return path;
    }

    [Fact]
    public void Exif_orientation_turns_a_photo_upright()
    {
        // Stored 20 wide and 10 high with a white top band; tag 6 means "turn a quarter right to view".
        var stored = WriteBitmap("stored.jpg", 20, 10, (_, y) => y < 3 ? SKColors.White : SKColors.Black, SKEncodedImageFormat.Jpeg);
        var turned = WithExifOrientation(stored, 6);
        var upright = Decode(turned, Plain(20, 10));   // upright it is 10 wide and 20 high
        float At(int y, int x) => upright[y * 10 + x];
        Assert.InRange(At(10, 9), 0.85f, 1.01f);        // the band is now on the right
        Assert.InRange(At(10, 0), -0.01f, 0.15f);
        var asStored = Decode(stored, Plain(10, 20));
        Assert.InRange(asStored[1 * 20 + 10], 0.85f, 1.01f); // without the tag it stays on top
    }

    [Fact]
    public void Grayscale_alpha_bmp_and_gif_become_three_channels()
    {
        var rgb = Plain(2, 2, channels: 3);
        var gray = WriteBitmap("gray.png", 2, 2, (x, _) => x == 0 ? new SKColor(200, 200, 200) : new SKColor(50, 50, 50), type: SKColorType.Gray8);
        var values = Decode(gray, rgb);
        for (int c = 0; c < 3; c++) Assert.Equal(200 / 255f, values[c * 4], 0.01f);
        // Fully transparent red lies on black: it becomes black.
        var clear = WriteBitmap("clear.png", 2, 2, (_, _) => new SKColor(255, 0, 0, 0));
        Assert.All(Decode(clear, rgb), v => Assert.Equal(0, v, 0.001f));
        // A 2×2 24-bit BMP, every pixel pure blue (BGR order, rows padded to 4 bytes).
        var bmp = new List<byte>();
        bmp.AddRange("BM"u8.ToArray()); bmp.AddRange(BitConverter.GetBytes(70)); bmp.AddRange(new byte[4]); bmp.AddRange(BitConverter.GetBytes(54));
        bmp.AddRange(BitConverter.GetBytes(40)); bmp.AddRange(BitConverter.GetBytes(2)); bmp.AddRange(BitConverter.GetBytes(2));
        bmp.AddRange(BitConverter.GetBytes((short)1)); bmp.AddRange(BitConverter.GetBytes((short)24)); bmp.AddRange(new byte[24]);
        for (int row = 0; row < 2; row++) bmp.AddRange(new byte[] { 255, 0, 0, 255, 0, 0, 0, 0 });
        File.WriteAllBytes(PathOf("blue.bmp"), bmp.ToArray());
        var blue = Decode(PathOf("blue.bmp"), rgb);
        Assert.Equal([0f, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1], blue.Select(v => MathF.Round(v, 3)));
        // The smallest GIF: one white pixel, palette of white and black.
        File.WriteAllBytes(PathOf("white.gif"), Convert.FromBase64String("R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs="));
        Assert.All(Decode(PathOf("white.gif"), rgb), v => Assert.Equal(1, v, 0.001f));
        // One channel is luminance.
        var colour = WriteBitmap("green.png", 2, 2, (_, _) => new SKColor(0, 255, 0));
        Assert.All(Decode(colour, Plain(2, 2)), v => Assert.Equal(0.587f, v, 0.002f));
    }

    [Fact]
    public void Unreadable_files_are_named_and_nothing_is_built_unless_skipped()
    {
        WriteSample(PathOf("fm"), 40);
        var empty = Path.Combine(PathOf("fm"), "Bag", "empty.png");
        var text = Path.Combine(PathOf("fm"), "Coat", "notes.jpg");
        File.WriteAllBytes(empty, []);
        File.WriteAllText(text, "not an image");
        var options = new ImageDatasetOptions { Height = 28, Width = 28 };
        var error = Assert.Throws<InvalidDataException>(() => ImageFolders.FromFolder(PathOf("fm"), options));
        Assert.Contains(empty, error.Message);
        Assert.Contains("empty (0 bytes)", error.Message);
        Assert.Contains(text, error.Message);
        Assert.Contains("2 of 42 file(s)", error.Message);
        Assert.Contains("SkipUnreadable", error.Message);
        var logger = new RecordingLogger();
        var dd = ImageFolders.FromFolder(PathOf("fm"), options with { SkipUnreadable = true }, logger);
        Assert.Equal(40, dd["train"].Count + dd["valid"].Count);
        Assert.Single(logger.Warnings, w => w.Contains("Left out 2 of 42"));
    }

    [Fact]
    public void An_empty_class_folder_one_class_and_a_missing_table_file_are_refused()
    {
        WriteSample(PathOf("fm"), 20);
        Directory.CreateDirectory(Path.Combine(PathOf("fm"), "Nothing here"));
        var options = new ImageDatasetOptions { Height = 28, Width = 28 };
        Assert.Contains("'Nothing here' hold no images", Assert.Throws<InvalidDataException>(() => ImageFolders.FromFolder(PathOf("fm"), options)).Message);

        var paths = WriteSample(PathOf("one"), 20).Where(p => p.Contains("Ankle boot")).ToList();
        var oneClass = paths.Select(p => new ImageFolders.LabelledImage(p, "Ankle boot"));
        Assert.Contains("one class ('Ankle boot')", Assert.Throws<InvalidDataException>(() => ImageFolders.FromTable(oneClass, Folder, options)).Message);

        // Relative paths start at the base folder; a row naming a missing file is named.
        var rows = WriteSample(PathOf("t"), 20).Select(p => new ImageFolders.LabelledImage(Path.GetRelativePath(Folder, p), Path.GetFileName(Path.GetDirectoryName(p))!)).ToList();
        Assert.Equal(20, ImageFolders.FromTable(rows, Folder, options).Values.Sum(s => s.Count));
        rows.Add(new("t/Bag/missing.png", "Bag"));
        Assert.Contains(Path.Combine(Folder, "t/Bag/missing.png") + " does not exist", Assert.Throws<InvalidDataException>(() => ImageFolders.FromTable(rows, Folder, options)).Message);
    }

    [Fact]
    public void A_folder_split_into_train_and_valid_keeps_its_split()
    {
        WriteSample(PathOf("split/train"), 60);
        WriteSample(PathOf("split/valid"), 30, skip: 60);
        var dd = ImageFolders.FromFolder(PathOf("split"), new ImageDatasetOptions { Height = 28, Width = 28 });
        Assert.Equal(60, dd["train"].Count);
        Assert.Equal(30, dd["valid"].Count);
        Assert.All(((ImageDataset)dd["valid"]).Paths, p => Assert.StartsWith(PathOf("split/valid"), p));
        Directory.Move(PathOf("split/valid"), PathOf("split/val"));
        var error = Assert.Throws<InvalidDataException>(() => ImageFolders.FromFolder(PathOf("split"), new ImageDatasetOptions()));
        Assert.Contains("no 'valid' folder", error.Message);
        Assert.Contains("Its other folder(s): 'val'; name the valid one (ValidFolder)", error.Message);
        Assert.Equal(30, ImageFolders.FromFolder(PathOf("split"), new ImageDatasetOptions { ValidFolder = "val" })["valid"].Count);
        var fraction = Assert.Throws<ArgumentOutOfRangeException>(() => ImageFolders.FromFolder(PathOf("split/train"), new ImageDatasetOptions { ValidFraction = 1 }));
        Assert.Equal("The valid fraction (ValidFraction) must be greater than 0 and less than 1; got 1.", fraction.Message);
    }

    private static float[] EpochInputs(IDataset data, int batchSize = 16)
    {
        using var scope = NewDisposeScope();
        using var epoch = data.OpenEpoch(null, batchSize);
        return Enumerable.Range(0, epoch.Count).SelectMany(b => epoch.Get(b).X.data<float>().ToArray()).ToArray();
    }

    [Fact]
    public void Augmentation_repeats_with_the_seed_whatever_the_workers_and_valid_never_changes()
    {
        WriteSample(PathOf("fm"), 60);
        var options = new ImageDatasetOptions { Height = 24, Width = 24, Augmentation = ImageAugmentation.Default, Workers = 1 };
        var dd = ImageFolders.FromFolder(PathOf("fm"), options);
        var fourWorkers = ImageFolders.FromFolder(PathOf("fm"), options with { Workers = 4 });
        Isaac.SetSeed(5);
        var first = EpochInputs(dd["train"]);
        var second = EpochInputs(dd["train"]);
        Isaac.SetSeed(5);
        Assert.Equal(first, EpochInputs(fourWorkers["train"]));
        Assert.NotEqual(first, second);
        var valid = EpochInputs(dd["valid"]);
        Assert.Equal(valid, EpochInputs(dd["valid"]));
        var validSet = (ImageDataset)dd["valid"];
        using var loaded = validSet.LoadInputs(Enumerable.Range(0, (int)validSet.Count).Select(i => (long)i).ToList());
        Assert.Equal(valid, loaded.data<float>().ToArray());
        // Unaugmented train images are the valid pipeline's: the augmentation really changed them.
        var plain = ImageFolders.FromFolder(PathOf("fm"), options with { Augmentation = null });
        Assert.NotEqual(EpochInputs(plain["train"]), first);
    }

    private static Trainer ConvTrainer(DatasetDict dd, int batchSize = 16)
    {
        Isaac.SetSeed(3);
        var model = new ConvNet(new ConvNetOptions(dd.Images!.Channels, [8, 16], dd.Target!.OutputSize));
        return new Trainer(DataLoaders.FromDatasetDict(dd, batchSize), nn.CrossEntropyLoss(), Optimizers.Adam, model,
            [new BasicTrainCB(), new MetricsCB(("Accuracy", new MulticlassAccuracy())), new DeviceCB()], lr: 0.01);
    }

    [Fact]
    public void A_file_that_goes_bad_mid_fit_is_named_and_the_trainer_is_usable_after()
    {
        WriteSample(PathOf("fm"), 80);
        var dd = ImageFolders.FromFolder(PathOf("fm"), new ImageDatasetOptions { Height = 16, Width = 16, Channels = 1 });
        var trainer = ConvTrainer(dd);
        var victim = ((ImageDataset)dd["train"]).Paths[37];
        var good = File.ReadAllBytes(victim);
        File.WriteAllText(victim, "damaged");
        var error = Assert.Throws<ImageFileException>(() => trainer.Fit(1));
        Assert.Equal(victim, error.Path);
        Assert.Contains(victim, error.Message);
        File.WriteAllBytes(victim, good);
        trainer.Fit(1);
        Assert.Single(trainer.Callbacks.OfType<MetricsCB>().Single().Records);
    }

    [Fact]
    public void A_saved_image_model_predicts_files_as_the_trainer_did_and_skips_a_bad_one()
    {
        WriteSample(PathOf("fm"), 100, ".jpg");
        var dd = ImageFolders.FromFolder(PathOf("fm"), new ImageDatasetOptions { Height = 20, Width = 20, Augmentation = ImageAugmentation.Default });
        var trainer = ConvTrainer(dd);
        trainer.Fit(2);
        var files = ((ImageDataset)dd["valid"]).Paths.ToList();
        var before = Predictor.FromTrainer(trainer).PredictFiles(files).ToList();
        ModelFile.Save(PathOf("m.isaac"), Predictor.FromTrainer(trainer));
        var loaded = ModelFile.Load(PathOf("m.isaac"));
        Assert.Equal(dd.Images, loaded.Images);
        Assert.Equal(dd.Target, loaded.Target);
        File.WriteAllBytes(PathOf("bad.png"), []);
        var after = loaded.PredictFiles(files.Take(3).Append(PathOf("bad.png")).Concat(files.Skip(3))).ToList();
        Assert.Contains("empty (0 bytes)", after[3].Error!.Message);
        after.RemoveAt(3);
        Assert.Equal(before.Select(p => (p.Path, p.Prediction!.Value, p.Prediction.Probability)), after.Select(p => (p.Path, p.Prediction!.Value, p.Prediction.Probability)));
        // The predictions are those of the valid pass: files decode as the loader decodes them.
        using var outputs = Predictor.FromTrainer(trainer).Outputs(((ImageDataset)dd["valid"]).LoadInputs(Enumerable.Range(0, files.Count).Select(i => (long)i).ToList()));
        Assert.Equal(outputs.argmax(1).data<long>().ToArray().Select(i => dd.Target!.Classes[(int)i]), before.Select(p => (string)p.Prediction!.Value));
    }

    [Fact]
    public void Sampling_and_the_image_pipeline_apply_to_every_split()
    {
        WriteSample(PathOf("fm"), 50);
        var dd = ImageFolders.FromFolder(PathOf("fm"), new ImageDatasetOptions { Height = 8, Width = 8 });
        var sampled = Isaac.SampleDatasetDict(dd, 5, seed: 1);
        Assert.Equal(5, sampled["train"].Count);
        Assert.IsType<ImageDataset>(sampled["valid"]);
        dd.Images = dd.Images!.WithNormalization(ImagePipeline.ImageNetMean, ImagePipeline.ImageNetStd);
        Assert.All(dd.Values, split => Assert.Equal(ImagePipeline.ImageNetMean, ((ImageDataset)split).Pipeline.Mean));
        Assert.Throws<ArgumentException>(() => new ImagePipeline(8, 8, 3, ResizeMethod.Crop, [0, 0, 0], [1, 0, 1]));
        Assert.Throws<InvalidOperationException>(() => Sample.Images = dd.Images);
    }

    private sealed class StopAfterEpoch(int epoch) : Callback
    {
        public override void AfterEpoch(Trainer trainer) { if (trainer.Epoch == epoch && !trainer.Training) throw new CancelFitException(); }
    }

    [Fact]
    public void Augmented_image_training_resumes_from_a_checkpoint_bit_for_bit()
    {
        WriteSample(PathOf("fm"), 60);
        var dd = ImageFolders.FromFolder(PathOf("fm"), new ImageDatasetOptions { Height = 12, Width = 12, Augmentation = ImageAugmentation.Default });
        Trainer Make(params Callback[] extra)
        {
            var trainer = ConvTrainer(dd);
            trainer.AddCallbacks(extra);
            return trainer;
        }
        var straight = Make();
        Isaac.SetSeed(100);
        straight.Fit(3);
        var killed = Make(new CheckpointCB(PathOf("run.isaacckpt")), new StopAfterEpoch(0) { Order = 30 });
        Isaac.SetSeed(100);
        killed.Fit(3);
        var resumed = Make();
        Isaac.SetSeed(999); // the checkpoint's generator state, not this one, draws the augmentation
        using (var checkpoint = Checkpoint.Load(PathOf("run.isaacckpt"))) resumed.Fit(3, resume: checkpoint);
        Assert.All(straight.Model.state_dict(), p => Assert.True(TestData.Same(p.Value, resumed.Model.state_dict()[p.Key]), $"{p.Key} equal bit for bit"));
    }

    [Fact]
    public void A_ConvNet_given_images_of_other_channels_says_what_it_takes()
    {
        using var model = new ConvNet(new ConvNetOptions(InputChannels: 1));
        using var rgb = zeros(2, 3, 16, 16);
        var error = Assert.Throws<ArgumentException>(() => model.call(rgb));
        Assert.StartsWith("This ConvNet takes images of 1 channel(s), [N, 1, H, W]; got [2, 3, 16, 16].", error.Message);
    }

    /// <summary>A small PNG whose header declares <paramref name="width"/>×<paramref name="height"/> gray pixels (its data holds one row).</summary>
    private string PngHeader(string name, int width, int height)
    {
        static byte[] BigEndian(int v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];
        static IEnumerable<byte> Chunk(string type, byte[] data)
        {
            var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            return BigEndian(data.Length).Concat(typed).Concat(BigEndian((int)System.IO.Hashing.Crc32.HashToUInt32(typed)));
        }
        byte[] ihdr = [.. BigEndian(width), .. BigEndian(height), 8, 0, 0, 0, 0];
        using var compressed = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) zlib.Write(new byte[width + 1]);
        var bytes = new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }.Concat(Chunk("IHDR", ihdr)).Concat(Chunk("IDAT", compressed.ToArray())).Concat(Chunk("IEND", [])).ToArray();
        File.WriteAllBytes(PathOf(name), bytes);
        return PathOf(name);
    }

    [Fact]
    public void Files_too_large_folders_and_batches_beyond_one_buffer_are_clear_errors()
    {
        var huge = PngHeader("huge.png", 30000, 30000);
        Assert.Equal($"is 30000×30000 pixels, more than the {ImageDecoder.MaxPixels:N0} an image may have here; make it smaller", ImageDecoder.Problem(huge));
        Assert.Contains("is 30000×30000 pixels", Assert.Throws<ImageFileException>(() => Decode(huge, Plain(8, 8))).Message);
        Assert.Contains("is a folder, not an image file", Assert.Throws<ImageFileException>(() => Decode(Folder, Plain(8, 8))).Message);

        // A batch whose floats pass what one array holds is the epoch's error at that batch, not a lost producer.
        var file = WriteSample(PathOf("fm"), 1)[0];
        var wide = new ImageDataset(Enumerable.Repeat(file, 50).ToList(), new long[50], Plain(4096, 4096, channels: 3), workers: 1);
        using var epoch = wide.OpenEpoch(null, 64);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => epoch.Get(0));
        Assert.Contains("more than one buffer holds", error.Message);
    }

    [Fact]
    public void A_cancelled_fit_stops_waiting_for_files_and_a_dataset_keeps_its_own_augmentation()
    {
        var paths = WriteSample(PathOf("fm"), 8);
        var augmentation = new ImageAugmentation { MaxRotate = 5 };
        var data = new ImageDataset(paths, Enumerable.Range(0, 8).Select(i => (long)(i % 2)).ToList(), Plain(8, 8), augmentation, workers: 1);
        augmentation.MaxRotate = 500; // the caller's object, not the dataset's
        data.Augmentation!.MinScale = 0; // a copy
        Assert.Equal(5, data.Augmentation!.MaxRotate);
        Assert.Equal(0.75, data.Augmentation.MinScale);
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        using var epoch = data.OpenEpoch(null, 4, stop.Token);
        Assert.ThrowsAny<OperationCanceledException>(() => epoch.Get(0));
        epoch.Dispose(); // twice: no error
    }
}
