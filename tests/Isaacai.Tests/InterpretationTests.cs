using Isaacai.Data;
using Isaacai.Data.Images;
using Isaacai.Interpretation;
using Isaacai.Plots;
using SkiaSharp;
using static TorchSharp.torch;

namespace Isaacai.Tests;

public sealed class InterpretationTests() : TempFolderTests("isaacai-interpretation-")
{
    private static readonly IReadOnlyList<string> Classes = ["cat", "dog", "fox"];

    // Each sample's input is the log of the probabilities the model should give, and the model passes inputs
    // through (a dropout that only eval mode leaves alone), so softmax gives back exactly these probabilities.
    private static readonly (int Actual, double[] Probabilities)[] Samples =
    [
        (0, [0.7, 0.2, 0.1]),    // 0: right
        (1, [0.6, 0.3, 0.1]),    // 1: dog taken for a cat
        (2, [0.1, 0.1, 0.8]),    // 2: right
        (0, [0.2, 0.5, 0.3]),    // 3: cat taken for a dog
        (2, [0.25, 0.7, 0.05]),  // 4: fox taken for a dog, the worst
        (1, [0.1, 0.85, 0.05]),  // 5: right, the best
        (1, [0.5, 0.4, 0.1]),    // 6: dog taken for a cat
        (1, [0.5, 0.4, 0.1]),    // 7: the same as 6, so the same loss: 6 comes first
        (2, [0.45, 0.45, 0.1]),  // 8: a tie for the highest probability goes to the first class
    ];

    /// <summary>A model that gives its inputs as logits, through a dropout inside a block, so its modes can be checked.</summary>
    private static nn.Module<Tensor, Tensor> PassThrough() => nn.Sequential(
        ("block", nn.Sequential(("dropout", nn.Dropout(0.9)))),
        ("head", nn.Identity()));

    private static DataLoader Loader(int batchSize = 4, bool shuffle = true)
    {
        var x = tensor(Samples.SelectMany(s => s.Probabilities.Select(p => (float)Math.Log(p))).ToArray(), [Samples.Length, 3]);
        var y = tensor(Samples.Select(s => (long)s.Actual).ToArray());
        return new DataLoader(new TensorDataset(x, y), batchSize, shuffle);
    }

    private static ClassificationInterpretation Interpret() =>
        ClassificationInterpretation.FromModel(PassThrough(), Loader(), TargetSpec.Classification("animal", Classes));

    [Fact]
    public void Each_sample_has_its_actual_and_predicted_class_its_loss_and_both_probabilities_in_the_split_order()
    {
        var interpretation = Interpret();
        Assert.Equal(Samples.Length, interpretation.Count);
        Assert.Equal(Samples.Select(s => s.Actual), interpretation.Actual);
        Assert.Equal([0, 0, 2, 1, 1, 1, 0, 0, 0], interpretation.Predicted);
        for (int i = 0; i < Samples.Length; i++)
        {
            var (actual, p) = Samples[i];
            Assert.Equal(-Math.Log(p[actual]), interpretation.Losses[i], 1e-6);
            Assert.Equal(p[actual], interpretation.ActualProbabilities[i], 1e-6);
            Assert.Equal(p.Max(), interpretation.PredictedProbabilities[i], 1e-6);
        }
    }

    [Fact]
    public void The_confusion_matrix_counts_actual_by_predicted()
    {
        var matrix = Interpret().ConfusionMatrix();
        Assert.Equal(Classes, matrix.Classes);
        Assert.Equal(new long[,] { { 1, 1, 0 }, { 3, 1, 0 }, { 1, 1, 1 } }, matrix.ToArray());
        Assert.Equal(9, matrix.Total);
    }

    [Fact]
    public void Confusion_rows_are_every_cell_or_the_nonzero_ones_and_most_confused_are_the_wrong_pairs_by_count()
    {
        var interpretation = Interpret();
        var all = interpretation.ConfusionRows();
        Assert.Equal(9, all.Count);
        Assert.Equal(new ConfusionRow("cat", "cat", 1), all[0]);
        Assert.Equal(new ConfusionRow("dog", "cat", 3), all[3]);
        Assert.Equal(new ConfusionRow("fox", "fox", 1), all[8]);
        Assert.Equal(9, all.Sum(r => r.Count));
        var nonZero = interpretation.ConfusionRows(nonZeroOnly: true);
        Assert.Equal(7, nonZero.Count);
        Assert.All(nonZero, r => Assert.True(r.Count > 0));

        Assert.Equal([new("dog", "cat", 3), new("cat", "dog", 1), new("fox", "cat", 1), new("fox", "dog", 1)], interpretation.MostConfused());
        Assert.Equal([new ConfusionRow("dog", "cat", 3)], interpretation.MostConfused(minCount: 2));
        Assert.Empty(interpretation.MostConfused(minCount: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => interpretation.MostConfused(0));
    }

    [Fact]
    public void Top_losses_are_the_worst_samples_first_with_equal_losses_in_split_order()
    {
        var interpretation = Interpret();
        var top = interpretation.TopLosses(4);
        Assert.Equal([4L, 8, 3, 1], top.Select(t => t.Index));
        Assert.Equal((4L, (string?)null, "fox", "dog"), (top[0].Index, top[0].Path, top[0].Actual, top[0].Predicted));
        Assert.Equal(-Math.Log(0.05), top[0].Loss, 1e-6);
        Assert.Equal(0.05, top[0].ActualProbability, 1e-6);
        Assert.Equal(0.7, top[0].PredictedProbability, 1e-6);
        Assert.Equal(("fox", "cat"), (top[1].Actual, top[1].Predicted));
        Assert.Equal(-Math.Log(0.1), top[1].Loss, 1e-6);
        Assert.Equal(0.1, top[1].ActualProbability, 1e-6);
        Assert.Equal(0.45, top[1].PredictedProbability, 1e-6);

        var every = interpretation.TopLosses(100);
        Assert.Equal([4L, 8, 3, 1, 6, 7, 0, 2, 5], every.Select(t => t.Index));
        Assert.Equal(every[4].Loss, every[5].Loss); // samples 6 and 7 are the same
        Assert.All(every, t => Assert.Null(t.Path));
        Assert.Throws<ArgumentOutOfRangeException>(() => interpretation.TopLosses(0));
    }

    [Fact]
    public void The_model_is_put_back_in_each_module_s_own_mode()
    {
        var model = PassThrough();
        var block = model.named_modules().Single(m => m.name == "block").module;
        model.train();
        block.eval(); // a frozen block inside a training model stays frozen
        var interpretation = ClassificationInterpretation.FromModel(model, Loader(), TargetSpec.Classification("animal", Classes));
        Assert.True(model.training);
        Assert.Equal(new Dictionary<string, bool> { ["block"] = false, ["block.dropout"] = false, ["head"] = true },
            model.named_modules().ToDictionary(m => m.name, m => m.module.training));
        Assert.Equal([0, 0, 2, 1, 1, 1, 0, 0, 0], interpretation.Predicted); // with a 0.9 dropout in train mode these would be noise

        model.eval();
        ClassificationInterpretation.FromModel(model, Loader(), TargetSpec.Classification("animal", Classes));
        Assert.All(model.modules(), m => Assert.False(m.training));
    }

    [Fact]
    public void From_a_trainer_it_reads_the_valid_split_and_leaves_the_trainer_usable()
    {
        var train = Loader();
        var dls = new DataLoaders(train, Loader(batchSize: 2, shuffle: false)) { Target = TargetSpec.Classification("animal", Classes) };
        var trainer = new Trainer(dls, nn.CrossEntropyLoss(), Optimizers.SGD, nn.Linear(3, 3), [new Callbacks.BasicTrainCB()], lr: 0.1);
        trainer.Model.train();
        var interpretation = ClassificationInterpretation.FromTrainer(trainer);
        Assert.Equal(9, interpretation.Count);
        Assert.Equal(9, interpretation.ConfusionMatrix().Total);
        Assert.True(trainer.Model.training);
        Assert.False(trainer.IsFitting);
        trainer.Fit(1);

        // Not while a job on another thread holds the trainer (it would switch that fit's model to eval mode).
        Exception? refusal = null;
        bool modeAfterFit = trainer.Model.training;
        using (trainer.Claim())
        {
            var other = new Thread(() => { try { ClassificationInterpretation.FromTrainer(trainer); } catch (Exception e) { refusal = e; } });
            other.Start();
            other.Join();
        }
        Assert.IsType<TrainerBusyException>(refusal);
        Assert.Equal(modeAfterFit, trainer.Model.training);
    }

    [Fact]
    public void A_regression_or_data_without_a_target_is_refused_with_one_clear_message()
    {
        var regression = Assert.Throws<NotAClassifierException>(() =>
            ClassificationInterpretation.FromModel(PassThrough(), Loader(), TargetSpec.Regression("weight", 10, 2)));
        Assert.Contains("'weight' is a number (a regression)", regression.Message);
        var none = Assert.Throws<NotAClassifierException>(() => ClassificationInterpretation.FromModel(PassThrough(), Loader(), null));
        Assert.Contains("does not say what its targets are", none.Message);
        var trainer = TestData.Trainer(); // synthetic data with no TargetSpec
        Assert.Throws<NotAClassifierException>(() => TrainingPlots.Save(trainer, PlotKind.ConfusionMatrix, PathOf("none.png")));
        Assert.Empty(Files());
    }

    [Fact]
    public void A_model_whose_outputs_do_not_match_the_classes_is_one_clear_error()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            ClassificationInterpretation.FromModel(nn.Linear(3, 4), Loader(), TargetSpec.Classification("animal", Classes)));
        Assert.Contains("gives [4, 3]", error.Message);
    }

    private static SKBitmap Decode(string path) => PlotTests.Decode(path);

    /// <summary>Pixels of exactly this colour but for rounding: images are drawn, not anti-aliased lines.</summary>
    private static int PixelsNear(SKBitmap image, SKColor color, int tolerance = 2) => PlotTests.PixelsNear(image, color, tolerance);

    [Fact]
    public void The_confusion_matrix_plot_is_a_png_of_the_asked_size_with_dark_and_light_cells()
    {
        var path = PathOf("confusion.png");
        InterpretationPlots.SaveConfusionMatrix(Interpret().ConfusionMatrix(), path, 500, 420);
        using var image = Decode(path);
        Assert.Equal((500, 420), (image.Width, image.Height));
        // The largest count (3) is a dark blue cell, the ones light blue, the zeros white.
        int dark = image.Pixels.Count(p => p.Blue > p.Red + 20 && p.Red + p.Green + p.Blue < 300);
        int light = image.Pixels.Count(p => p.Blue > p.Red + 20 && p.Red + p.Green + p.Blue > 450);
        Assert.True(dark > 3000 && light > 6 * 3000, $"{dark} dark blue pixels, {light} light blue ones");
        Assert.True(image.Pixels.Distinct().Count() > 50);
    }

    [Fact]
    public void Top_losses_of_tensor_images_are_drawn_stretched_from_each_sample_s_lowest_to_highest_value()
    {
        // Two 2×2 images given as [N, 4]: values 0..3 become black, dark grey, light grey and white.
        var x = tensor(new float[] { 0, 1, 2, 3, 3, 2, 1, 0 }, [2, 4]).mul(5).sub(7);
        var loader = new DataLoader(new TensorDataset(x, tensor(new long[] { 0, 1 })), 2, false);
        var model = nn.Sequential(nn.Linear(4, 2));
        var interpretation = ClassificationInterpretation.FromModel(model, loader, TargetSpec.Classification("side", ["left", "right"]));
        var path = PathOf("top.png");
        InterpretationPlots.SaveTopLosses(interpretation, path, 2, 400, 300);
        using var image = Decode(path);
        Assert.Equal((400, 300), (image.Width, image.Height));
        foreach (byte grey in new byte[] { 0, 85, 170 })
            Assert.True(PixelsNear(image, new SKColor(grey, grey, grey), 0) > 1000, $"grey {grey}: {PixelsNear(image, new SKColor(grey, grey, grey), 0)} pixels");
    }

    [Fact]
    public void Top_losses_of_a_table_or_of_inputs_that_are_not_images_are_refused_and_write_nothing()
    {
        var rows = ClassificationInterpretation.FromModel(PassThrough(), Loader(), TargetSpec.Classification("animal", Classes), inputsAreTableRows: true);
        Assert.Contains("a table's rows", Assert.Throws<NotSupportedException>(() => InterpretationPlots.SaveTopLosses(rows, PathOf("rows.png"))).Message);
        var threeValues = Interpret(); // [N, 3]: not a square
        Assert.Contains("not an image", Assert.Throws<NotSupportedException>(() => InterpretationPlots.SaveTopLosses(threeValues, PathOf("values.png"))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => InterpretationPlots.SaveTopLosses(threeValues, PathOf("many.png"), InterpretationPlots.MaxTopLossCount + 1));
        Assert.Empty(Files());
    }

    /// <summary>A PNG of one colour, 16×16.</summary>
    private string WriteImage(string name, SKColor color)
    {
        using var bitmap = new SKBitmap(16, 16);
        bitmap.Erase(color);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        var path = PathOf(name);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    [Fact]
    public void Image_files_give_their_paths_and_are_drawn_as_the_model_saw_them_before_normalization()
    {
        // The model's logits are the normalized channel means: (0.5, 0.25, 0.75) becomes (0, −1, 1), so the
        // purple file labelled 0 is predicted 2; the red and green ones are right.
        var purple = new SKColor(128, 64, 191);
        string[] paths = [WriteImage("purple.png", purple), WriteImage("red.png", SKColors.Red), WriteImage("green.png", new SKColor(0, 255, 0))];
        var pipeline = new ImagePipeline(8, 8, 3, ResizeMethod.Squish, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]);
        var dataset = new ImageDataset(paths, [0, 0, 1], pipeline, workers: 1);
        var model = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten());
        var interpretation = ClassificationInterpretation.FromModel(model, new DataLoader(dataset, 2, false), TargetSpec.Classification("colour", ["r", "g", "b"]));
        Assert.Equal([2, 0, 1], interpretation.Predicted);
        var worst = interpretation.TopLosses(1).Single();
        Assert.Equal((0L, paths[0], "r", "b"), (worst.Index, worst.Path, worst.Actual, worst.Predicted));
        double[] logits = [128 / 255.0 * 4 - 2, 64 / 255.0 * 4 - 2, 191 / 255.0 * 4 - 2];
        double sum = logits.Sum(Math.Exp);
        Assert.Equal(Math.Exp(logits[0]) / sum, worst.ActualProbability, 1e-5);
        Assert.Equal(Math.Exp(logits[2]) / sum, worst.PredictedProbability, 1e-5);
        Assert.Equal(paths.Order(), interpretation.TopLosses(3).Select(t => t.Path).Order());

        // A split that augments is read as a valid pass reads it: the same numbers, and torch's generator untouched.
        var augmented = new ImageDataset(paths, [0, 0, 1], pipeline, new ImageAugmentation { MinScale = 0.1, MaxBrightness = 0.9 }, workers: 1);
        manual_seed(5);
        var before = rand(1).item<float>();
        manual_seed(5);
        var unaugmented = ClassificationInterpretation.FromModel(model, new DataLoader(augmented, 2, true), TargetSpec.Classification("colour", ["r", "g", "b"]));
        Assert.Equal(before, rand(1).item<float>());
        Assert.Equal(interpretation.Losses, unaugmented.Losses);
        Assert.Same(augmented, unaugmented.Dataset);

        var grid = PathOf("grid.png");
        InterpretationPlots.SaveTopLosses(interpretation, grid, 3, 300, 200);
        using var image = Decode(grid);
        Assert.Equal((300, 200), (image.Width, image.Height));
        // Un-normalized with the pipeline's statistics, the purple comes back as itself (stretching each
        // sample to its own range would have made it (128, 0, 255)).
        Assert.True(PixelsNear(image, purple) > 500, $"purple: {PixelsNear(image, purple)} pixels");
        Assert.True(PixelsNear(image, SKColors.Red) > 500);
        Assert.Equal(0, PixelsNear(image, new SKColor(128, 0, 255)));
    }
}
