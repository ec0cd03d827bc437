using System.IO.Compression;
using Isaacai.Callbacks;
using Isaacai.Checkpoints;
using Isaacai.Data;
using Isaacai.Metrics;
using Isaacai.Models;
using static TorchSharp.torch;

namespace Isaacai.Tests;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("isaac-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Shuffling, dropout, one-cycle, Adam and early stopping: everything a resume must carry.</summary>
    private Trainer Make(long seed, string checkpointPath, params Callback[] extra)
    {
        Isaac.SetSeed(seed);
        var model = new Mlp(4, [16], 3, dropout: 0.2);
        return new Trainer(DataLoaders.FromDatasetDict(TestData.Synthetic(train: 40, valid: 12), 8), nn.CrossEntropyLoss(), Optimizers.Adam, model,
            [new BasicTrainCB(), new MetricsCB(("Accuracy", new MulticlassAccuracy())), new OneCycleCB(0.05),
             new EarlyStoppingCB("valid_loss", patience: 4, restoreBestWeights: true), new CheckpointCB(checkpointPath), .. extra]);
    }

    [Fact]
    public void Three_epochs_then_a_resume_for_two_more_give_the_same_weights_as_five_straight_bit_for_bit()
    {
        var straightPath = Path.Combine(_folder, "straight-{epoch}.isaacckpt");
        var straight = Make(1, straightPath);
        Isaac.SetSeed(100);
        straight.Fit(5);

        var interruptedPath = Path.Combine(_folder, "run.isaacckpt");
        var interrupted = Make(1, interruptedPath, new KillAfterEpoch(2) { Order = 30 }); // dies after epoch 2's checkpoint
        Isaac.SetSeed(100);
        interrupted.Fit(5);

        var resumed = Make(77, Path.Combine(_folder, "resumed.isaacckpt")); // other initial weights: the checkpoint must replace them
        var resumedEarly = resumed.Callbacks.OfType<EarlyStoppingCB>().Single();
        using (var checkpoint = Checkpoint.Load(interruptedPath))
        {
            Assert.Equal(3, checkpoint.EpochsCompleted);
            Isaac.SetSeed(12345); // and another generator state
            resumed.Fit(5, resume: checkpoint);
        }

        Assert.Equal([3, 4], resumed.Callbacks.OfType<MetricsCB>().Single().Records.Select(r => r.Epoch));
        var straightEarly = straight.Callbacks.OfType<EarlyStoppingCB>().Single();
        Assert.Equal(straightEarly.Best, resumedEarly.Best);
        Assert.Equal(straightEarly.BestEpoch, resumedEarly.BestEpoch);
        Assert.Equal(straightEarly.Wait, resumedEarly.Wait);
        Assert.All(straight.Model.state_dict(), p => Assert.True(TestData.Same(p.Value, resumed.Model.state_dict()[p.Key]), $"{p.Key} equal bit for bit"));
        Assert.Equal(straight.Callbacks.OfType<MetricsCB>().Single().Records[4].ValidLoss, resumed.Callbacks.OfType<MetricsCB>().Single().Records[1].ValidLoss);
    }

    private sealed class FailingState : Callback, ICheckpointable
    {
        public void SaveState(CallbackState state) => state.Tensors["bad"] = zeros(2, dtype: ScalarType.ComplexFloat32); // safetensors cannot hold it
        public void RestoreState(CallbackState state) { }
    }

    [Fact]
    public void A_save_that_fails_while_writing_leaves_the_previous_checkpoint_loadable_and_no_temporary_file()
    {
        var path = Path.Combine(_folder, "keep.isaacckpt");
        var trainer = Make(1, path);
        trainer.Fit(1);
        var good = File.ReadAllBytes(path);
        trainer.AddCallbacks(new FailingState());
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(trainer, path, 7));
        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Equal(["keep.isaacckpt"], Directory.GetFiles(_folder).Select(Path.GetFileName));
        using var checkpoint = Checkpoint.Load(path);
        Assert.Equal(1, checkpoint.EpochsCompleted);
    }

    [Fact]
    public void The_epochs_a_fit_finished_count_the_epoch_an_early_stop_ended_in()
    {
        var trainer = Make(1, Path.Combine(_folder, "e.isaacckpt"), new KillAfterEpoch(1) { Order = 30 });
        trainer.Fit(5);
        Assert.Equal(1, trainer.Epoch); // the loop stopped in epoch 1...
        Assert.Equal(2, Checkpoint.EpochsFinishedBy(trainer)); // ...which had finished
    }

    [Fact]
    public void A_save_killed_before_its_rename_leaves_a_partial_file_the_next_save_replaces_and_a_missing_folder_is_named()
    {
        var path = Path.Combine(_folder, "k.isaacckpt");
        File.WriteAllText(Path.Combine(_folder, ".k.isaacckpt.partial"), "half a checkpoint, from a killed process");
        var trainer = Make(1, path);
        trainer.Fit(1);
        Assert.Equal(["k.isaacckpt"], Directory.GetFiles(_folder).Select(Path.GetFileName));
        var error = Assert.Throws<DirectoryNotFoundException>(() => Checkpoint.Save(trainer, Path.Combine(_folder, "nowhere", "x.isaacckpt"), 1));
        Assert.Equal($"Cannot write {Path.Combine(_folder, "nowhere", "x.isaacckpt")}: the folder {Path.Combine(_folder, "nowhere")} does not exist.", error.Message);
    }

    [Fact]
    public void A_checkpoint_that_claims_negative_epochs_is_refused()
    {
        var path = Path.Combine(_folder, "edited.isaacckpt");
        Make(1, path).Fit(1);
        EditInfo(path, json => json.Replace("\"EpochsCompleted\": 1", "\"EpochsCompleted\": -5"));
        Assert.Contains("-5 epochs were completed", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path)).Message);
    }

    [Fact]
    public void A_callback_state_that_does_not_fit_puts_the_weights_and_generator_back()
    {
        var path = Path.Combine(_folder, "no-wait.isaacckpt");
        Make(1, path).Fit(1);
        EditInfo(path, json => json.Replace("\"wait\":", "\"waited\":"));
        var other = Make(2, Path.Combine(_folder, "other.isaacckpt"));
        var before = other.Model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        using var rngBefore = random.get_rng_state();
        using var checkpoint = Checkpoint.Load(path);
        Assert.Contains("has no 'wait'", Assert.Throws<InvalidDataException>(() => checkpoint.RestoreInto(other)).Message);
        Assert.All(other.Model.state_dict(), p => Assert.True(TestData.Same(before[p.Key], p.Value), p.Key));
        using var rngAfter = random.get_rng_state();
        Assert.True(TestData.Same(rngBefore, rngAfter));
    }

    private static void EditInfo(string path, Func<string, string> edit)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        var entry = zip.GetEntry("checkpoint.json")!;
        string json;
        using (var reader = new StreamReader(entry.Open())) json = reader.ReadToEnd();
        entry.Delete();
        using var writer = new StreamWriter(zip.CreateEntry("checkpoint.json").Open());
        writer.Write(edit(json));
    }

    [Fact]
    public void A_TorchSharp_scheduler_resumes_where_it_was()
    {
        Trainer Scheduled(string checkpointPath, params Callback[] extra)
        {
            Isaac.SetSeed(4);
            return new Trainer(DataLoaders.FromDatasetDict(TestData.Synthetic(train: 16), 8), nn.CrossEntropyLoss(), Optimizers.SGD, nn.Linear(4, 3),
                [new BasicTrainCB(), new MetricsCB(), new TrackingCB(), new ScheduleCB(opt => optim.lr_scheduler.StepLR(opt, 1, 0.5)), new CheckpointCB(checkpointPath), .. extra], lr: 0.1);
        }
        var straight = Scheduled(Path.Combine(_folder, "s.isaacckpt"));
        straight.Fit(5);
        var killed = Scheduled(Path.Combine(_folder, "k.isaacckpt"), new KillAfterEpoch(2) { Order = 30 });
        killed.Fit(5);
        var resumed = Scheduled(Path.Combine(_folder, "r.isaacckpt"));
        using (var checkpoint = Checkpoint.Load(Path.Combine(_folder, "k.isaacckpt"))) resumed.Fit(5, resume: checkpoint);
        var straightLrs = straight.Callbacks.OfType<TrackingCB>().Single().Lrs;
        Assert.Equal(straightLrs.Skip(6), resumed.Callbacks.OfType<TrackingCB>().Single().Lrs); // epochs 3 and 4, 2 batches each
        Assert.Equal(0.1 * Math.Pow(0.5, 4), straightLrs[^1], 12);

        // Restored outside a fit (to predict, say), the steps are not replayed into the next, fresh, fit.
        var fresh = Scheduled(Path.Combine(_folder, "f.isaacckpt"));
        using (var checkpoint = Checkpoint.Load(Path.Combine(_folder, "k.isaacckpt"))) checkpoint.RestoreInto(fresh);
        fresh.Fit(2);
        Assert.Equal([0.1, 0.1, 0.05, 0.05], fresh.Callbacks.OfType<TrackingCB>().Single().Lrs.Select(lr => Math.Round(lr, 12)));
    }

    [Fact]
    public void A_file_that_is_not_a_checkpoint_gets_one_clear_error()
    {
        var path = Path.Combine(_folder, "junk.isaacckpt");
        File.WriteAllText(path, "not a zip");
        Assert.Contains("not an Isaacai checkpoint", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path)).Message);
        using (var zip = ZipFile.Open(path + ".zip", ZipArchiveMode.Create)) zip.CreateEntry("other.txt");
        Assert.Contains("has no checkpoint.json", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path + ".zip")).Message);
    }

    [Fact]
    public void Restoring_into_a_model_of_another_shape_changes_nothing()
    {
        var path = Path.Combine(_folder, "shape.isaacckpt");
        Make(1, path).Fit(1);
        Isaac.SetSeed(2);
        var other = new Trainer(DataLoaders.FromDatasetDict(TestData.Synthetic(), 4), nn.CrossEntropyLoss(), Optimizers.Adam, new Mlp(4, [8], 3), [new BasicTrainCB()]);
        var before = other.Model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        using var checkpoint = Checkpoint.Load(path);
        var error = Assert.Throws<InvalidDataException>(() => checkpoint.RestoreInto(other));
        Assert.Contains("is [16, 4] in the file but [8, 4] in the model", error.Message);
        Assert.All(other.Model.state_dict(), p => Assert.True(TestData.Same(before[p.Key], p.Value)));
    }
}
