using Isaacai.Callbacks;
using Isaacai.Checkpoints;
using Isaacai.Data;
using Isaacai.Interpretation;
using Isaacai.Metrics;
using Isaacai.Models;
using Isaacai.Plots;
using SkiaSharp;
using TorchSharp;

namespace Isaacai.Tests;

public class TensorBoardTests() : TempFolderTests("isaac-tensorboard-")
{
    private const int TrainBatches = 3; // TestData's 10 train samples in batches of 4

    [Fact]
    public void The_CRC32C_is_Castagnolis_and_a_flipped_byte_in_an_event_file_is_caught()
    {
        Assert.Equal(0xE3069283u, TensorBoardEvents.Crc32C("123456789"u8)); // the standard check value
        var trainer = TestData.Trainer(4, new BasicTrainCB(), new MetricsCB(), new TensorBoardCB(PathOf("run")));
        trainer.Fit(1);
        var file = Assert.Single(Directory.GetFiles(PathOf("run")));
        Assert.NotEmpty(TensorBoardEvents.Read(file));
        var bytes = File.ReadAllBytes(file);
        bytes[^6] ^= 0x01; // inside the last record's data
        File.WriteAllBytes(file, bytes);
        Assert.Contains("data CRC", Assert.Throws<InvalidDataException>(() => TensorBoardEvents.Read(file)).Message);
    }

    [Fact]
    public void Batch_and_epoch_scalars_carry_the_fits_own_values_at_train_batch_steps()
    {
        var metrics = new MetricsCB(("Accuracy", new MulticlassAccuracy()));
        var tracking = new TrackingCB();
        var board = new TensorBoardCB(PathOf("run"), everyBatches: 2);
        var trainer = TestData.Trainer(4, new BasicTrainCB(), metrics, tracking, board);
        trainer.Fit(3);

        var events = TensorBoardEvents.ReadFolder(PathOf("run"));
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Equal(board.EventFile, Assert.Single(Directory.GetFiles(PathOf("run"))));
        Assert.Equal(3 * TrainBatches, board.GlobalStep);

        // Every second train batch: its loss and learning rate, at the count of train batches done.
        long[] batchSteps = [2, 4, 6, 8];
        Assert.Equal(batchSteps.Select(s => (s, (float)tracking.TrainLosses[(int)s - 1])), TensorBoardEvents.Scalars(events, "loss/train_batch"));
        Assert.Equal(batchSteps.Select(s => (s, (float)tracking.Lrs[(int)s - 1])), TensorBoardEvents.Scalars(events, "lr"));

        // Each epoch's record, where the epoch's last train batch ended.
        long[] epochSteps = [3, 6, 9];
        Assert.Equal(epochSteps.Zip(metrics.Records, (s, r) => (s, (float)r.TrainLoss!.Value)), TensorBoardEvents.Scalars(events, "loss/train"));
        Assert.Equal(epochSteps.Zip(metrics.Records, (s, r) => (s, (float)r.ValidLoss!.Value)), TensorBoardEvents.Scalars(events, "loss/valid"));
        Assert.Equal(epochSteps.Zip(metrics.Records, (s, r) => (s, (float)r.Metrics["Accuracy"])), TensorBoardEvents.Scalars(events, "metrics/accuracy"));
        Assert.Equal(epochSteps.Select((s, e) => (s, (float)e)), TensorBoardEvents.Scalars(events, "epoch"));

        // The settings as text, once, as the fit starts: TensorBoard's text plugin reads a string tensor.
        var (step, settings) = Assert.Single(TensorBoardEvents.Values(events, "settings/text_summary"));
        Assert.Equal(0, step);
        Assert.Equal("text", settings.Metadata.PluginData.PluginName);
        var table = settings.Tensor.StringVal.Single().ToStringUtf8();
        Assert.Contains("| model | Linear (15 parameters) |", table);
        Assert.Contains("| optimizer | SGD |", table);
        Assert.Contains("| epochs | 3 |", table);
        Assert.Contains("| batch size | 4 |", table);
        Assert.DoesNotContain(events, e => e.Summary?.Value.Any(v => v.Histo is not null) == true); // histograms are opt-in
    }

    [Fact]
    public void A_second_fit_writes_on_from_the_step_the_first_ended_at()
    {
        var board = new TensorBoardCB(PathOf("run"), everyBatches: 1);
        var trainer = TestData.Trainer(4, new BasicTrainCB(), new MetricsCB(), board);
        trainer.Fit(1);
        trainer.Fit(2);
        var events = TensorBoardEvents.ReadFolder(PathOf("run"));
        Assert.Equal(Enumerable.Range(1, 3 * TrainBatches).Select(s => (long)s), TensorBoardEvents.Scalars(events, "loss/train_batch").Select(s => s.Step));
        Assert.Equal([3L, 6, 9], TensorBoardEvents.Scalars(events, "loss/valid").Select(s => s.Step));
        Assert.Equal([0L, 3], TensorBoardEvents.Values(events, "settings/text_summary").Select(s => s.Step));
    }

    [Fact]
    public void A_fit_without_a_train_phase_puts_its_epochs_at_steps_1_2_and_so_on()
    {
        var tracking = new TrackingCB();
        var trainer = TestData.Trainer(4, new BasicTrainCB(), tracking, new TensorBoardCB(PathOf("run"), everyBatches: 1));
        trainer.Fit(2, train: false);
        var events = TensorBoardEvents.ReadFolder(PathOf("run"));
        Assert.Equal([(1L, (float)tracking.Epochs[0].ValidLoss!.Value), (2L, (float)tracking.Epochs[1].ValidLoss!.Value)], TensorBoardEvents.Scalars(events, "loss/valid"));
        Assert.Empty(TensorBoardEvents.Scalars(events, "loss/train"));
        Assert.Empty(TensorBoardEvents.Scalars(events, "loss/train_batch"));
    }

    [Fact]
    public void Histograms_describe_each_parameter_as_its_epoch_left_it()
    {
        var board = new TensorBoardCB(PathOf("run"), histograms: true);
        var trainer = TestData.Trainer(4, new BasicTrainCB(), new MetricsCB(), board);
        trainer.Fit(2);
        var events = TensorBoardEvents.ReadFolder(PathOf("run"));
        foreach (var (name, parameter) in trainer.Model.named_parameters())
        {
            var written = TensorBoardEvents.Values(events, "parameters/" + name);
            Assert.Equal([3L, 6], written.Select(w => w.Step));
            var last = written[^1].Value.Histo;
            var values = parameter.detach().to_type(torch.ScalarType.Float64).reshape(-1).data<double>().ToArray();
            Assert.Equal(values.Length, last.Num);
            Assert.Equal(values.Length, last.Bucket.Sum());
            Assert.Equal(values.Min(), last.Min);
            Assert.Equal(values.Max(), last.Max);
            Assert.Equal(values.Sum(), last.Sum, 12);
            Assert.Equal(values.Sum(v => v * v), last.SumSquares, 12);
            Assert.Equal(last.Bucket.Count, last.BucketLimit.Count);
        }
    }

    [Fact]
    public void A_fit_resumed_from_a_checkpoint_writes_on_after_the_checkpoints_step()
    {
        var checkpoint = PathOf("run.isaacckpt");
        Trainer Make(params Callback[] more) => TestData.Trainer(4, [new BasicTrainCB(), new MetricsCB(), new TensorBoardCB(PathOf("run"), everyBatches: 1), new CheckpointCB(checkpoint), .. more]);
        Make(new KillAfterEpoch(1) { Order = 30 }).Fit(4); // dies after epoch 1's checkpoint
        var killed = TensorBoardEvents.ReadFolder(PathOf("run"));
        Assert.Equal([3L, 6], TensorBoardEvents.Scalars(killed, "loss/train").Select(s => s.Step));

        var resumed = Make();
        using (var saved = Checkpoint.Load(checkpoint)) resumed.Fit(4, resume: saved);
        var files = Directory.GetFiles(PathOf("run")).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(2, files.Length); // the resumed writer has its own file, after the first by name
        Assert.Equal(resumed.Callbacks.OfType<TensorBoardCB>().Single().EventFile, files[1]);
        var events = TensorBoardEvents.ReadFolder(PathOf("run"));
        Assert.Equal(Enumerable.Range(1, 4 * TrainBatches).Select(s => (long)s), TensorBoardEvents.Scalars(events, "loss/train_batch").Select(s => s.Step));
        Assert.Equal([3L, 6, 9, 12], TensorBoardEvents.Scalars(events, "loss/valid").Select(s => s.Step));
        var records = resumed.Callbacks.OfType<MetricsCB>().Single().Records;
        Assert.Equal(records.Select(r => (float)r.ValidLoss!.Value), TensorBoardEvents.Scalars(TensorBoardEvents.Read(files[1]), "loss/valid").Select(s => s.Value));
        var (settingsStep, settings) = TensorBoardEvents.Values(TensorBoardEvents.Read(files[1]), "settings/text_summary").Single();
        Assert.Equal(6, settingsStep);
        Assert.Contains("| epochs | 4 (resumed at epoch 2) |", settings.Tensor.StringVal.Single().ToStringUtf8());
    }

    [Fact]
    public void Events_a_killed_run_wrote_after_its_checkpoint_are_cut_off_when_the_fit_resumes()
    {
        var checkpoint = PathOf("run.isaacckpt");
        Trainer Make(params Callback[] more) => TestData.Trainer(4, [new BasicTrainCB(), new MetricsCB(), new TensorBoardCB(PathOf("run"), everyBatches: 1), new CheckpointCB(checkpoint), .. more]);
        Make(new AtBatch(t => { if (t.Epoch == 2 && t.Iter == 2) throw new CancelFitException(); })).Fit(4); // dies in epoch 2, after its checkpoint of epoch 1
        Assert.Equal(Enumerable.Range(1, 8).Select(s => (long)s), TensorBoardEvents.Scalars(TensorBoardEvents.ReadFolder(PathOf("run")), "loss/train_batch").Select(s => s.Step));

        var resumed = Make();
        using (var saved = Checkpoint.Load(checkpoint)) resumed.Fit(4, resume: saved);
        var events = TensorBoardEvents.ReadFolder(PathOf("run"));
        Assert.Equal(Enumerable.Range(1, 4 * TrainBatches).Select(s => (long)s), TensorBoardEvents.Scalars(events, "loss/train_batch").Select(s => s.Step));
        var killedFile = Directory.GetFiles(PathOf("run")).Single(f => f != resumed.Callbacks.OfType<TensorBoardCB>().Single().EventFile);
        Assert.Equal(6, TensorBoardEvents.Read(killedFile).Max(e => e.Step)); // whole records up to the checkpoint's step
    }

    [Fact]
    public void Each_epoch_ends_with_its_events_in_the_file()
    {
        var seen = new List<long>();
        TensorBoardCB board = new(PathOf("run"));
        var probe = new Probe(t => seen.Add(TensorBoardEvents.Scalars(TensorBoardEvents.Read(board.EventFile!), "loss/valid").Count)) { Order = 11 };
        TestData.Trainer(4, new BasicTrainCB(), new MetricsCB(), board, probe).Fit(3);
        Assert.Equal([1L, 2, 3], seen);
    }

    [Fact]
    public void Bad_settings_and_a_log_folder_that_cannot_be_made_are_one_clear_error_and_the_trainer_still_fits()
    {
        Assert.Contains("EveryBatches must be 1 or more", Assert.Throws<ArgumentOutOfRangeException>(() => new TensorBoardCB(PathOf("run"), everyBatches: 0)).Message);
        Assert.Throws<ArgumentException>(() => new TensorBoardCB(" "));

        File.WriteAllText(PathOf("taken"), "a file where the folder should be");
        var trainer = TestData.Trainer(4, new BasicTrainCB(), new MetricsCB());
        var error = Assert.Throws<IOException>(() => trainer.Fit(1, callbacks: [new TensorBoardCB(PathOf("taken"))]));
        Assert.Contains($"TensorBoardCB cannot write its event file in {PathOf("taken")}", error.Message);
        trainer.Fit(1);

        var withoutRecords = TestData.Trainer(4, new BasicTrainCB(), new TensorBoardCB(PathOf("run")));
        Assert.Contains("MetricsCB or TrackingCB", Assert.Throws<InvalidOperationException>(() => withoutRecords.Fit(1)).Message);
        Assert.False(Directory.Exists(PathOf("run")), "nothing was written");
    }

    [Fact]
    public void Predictions_are_a_grid_of_the_first_valid_images_as_the_model_sees_them_at_each_epochs_end()
    {
        Isaac.SetSeed(3);
        var sample = Isaac.SampleDatasetDict(FashionMnist.LoadSample(), 40, seed: 5);
        var board = new TensorBoardCB(PathOf("run"), predictions: true, predictionCount: 9);
        var trainer = new Trainer(DataLoaders.FromDatasetDict(sample, 16), torch.nn.CrossEntropyLoss(), Optimizers.Adam, new SimpleNet(784, 16, 10),
                                  [new BasicTrainCB(), new MetricsCB(), board]);
        trainer.Fit(2);
        var images = TensorBoardEvents.Values(TensorBoardEvents.ReadFolder(PathOf("run")), "predictions");
        Assert.Equal([3L, 6], images.Select(i => i.Step)); // 40 train samples in batches of 16
        var written = images[^1].Value.Image;
        using var decoded = SKBitmap.Decode(written.EncodedImageString.ToByteArray());
        Assert.Equal((3 * 128, 3 * 128 + 40), (decoded.Width, decoded.Height));
        Assert.Equal((written.Width, written.Height), (decoded.Width, decoded.Height));

        // The same grid drawn from the trained model and the first nine valid samples, pixel for pixel.
        using var first = trainer.Dls.Valid.Dataset.Select(torch.arange(9));
        var interpretation = ClassificationInterpretation.FromModel(trainer.Model, new DataLoader(first, 9, shuffle: false), trainer.Dls.Target);
        using var expected = InterpretationPlots.DrawPredictions(interpretation, "Epoch 1: predicted / actual, probability", decoded.Width, decoded.Height);
        int differing = 0;
        for (int y = 0; y < decoded.Height; y++)
            for (int x = 0; x < decoded.Width; x++)
            {
                SKColor a = decoded.GetPixel(x, y), b = expected.GetPixel(x, y);
                if ((a.Red, a.Green, a.Blue) != (b.Red, b.Green, b.Blue)) differing++;
            }
        Assert.Equal(0, differing);
        Assert.NotEqual(images[0].Value.Image.EncodedImageString, written.EncodedImageString); // the captions' probabilities moved
    }

    [Fact]
    public void Predictions_of_data_without_classes_are_refused_before_the_first_epoch()
    {
        var trainer = TestData.Trainer(4, new BasicTrainCB(), new MetricsCB(), new TensorBoardCB(PathOf("run"), predictions: true));
        Assert.Contains("does not say what its targets are", Assert.Throws<NotSupportedException>(() => trainer.Fit(1)).Message);
        Assert.Equal(0, trainer.Epoch);
        Assert.Contains("PredictionCount must be 1 to 64", Assert.Throws<ArgumentOutOfRangeException>(() => new TensorBoardCB(PathOf("run"), predictionCount: 0)).Message);
    }

    [Fact]
    public void A_write_that_fails_fails_the_fit_with_one_error_naming_the_file_and_the_trainer_still_fits()
    {
        var board = new TensorBoardCB(PathOf("run"));
        var pullTheFolder = new AtBatch(t => { if (t.Epoch == 1 && t.Iter == 0 && t.Training) Directory.Delete(PathOf("run"), recursive: true); });
        var metrics = new MetricsCB();
        var trainer = TestData.Trainer(4, new BasicTrainCB(), metrics, board, pullTheFolder);
        var error = Assert.Throws<IOException>(() => trainer.Fit(3));
        Assert.StartsWith($"TensorBoardCB could not write its event file {board.EventFile}: ", error.Message);
        Assert.Equal(1, trainer.Epoch); // at the end of the epoch it happened in
        trainer.RemoveCallback(board);
        trainer.Fit(1);
        Assert.Single(metrics.Records);
    }

    private sealed class AtBatch(Action<Trainer> beforeBatch) : Callback
    {
        public override void BeforeBatch(Trainer trainer) => beforeBatch(trainer);
    }

    private sealed class Probe(Action<Trainer> afterEpoch) : Callback
    {
        public override void AfterEpoch(Trainer trainer) { if (trainer.LastPhaseOfEpoch) afterEpoch(trainer); }
    }
}
