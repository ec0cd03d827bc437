using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Data.Tabular;
using Isaacai.Inference;
using Isaacai.Metrics;
using Isaacai.Models;
using Isaacai.SavedModels;

namespace Isaacai.Tests;

/// <summary>The README's C# example, as written there (paths aside): CSV to saved model to predictions.</summary>
public sealed class ReadmeExampleTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("isaacai-readme-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_csv_becomes_a_saved_model_that_predicts_new_rows()
    {
        Isaac.SetSeed(42);
        var newRows = Path.Combine(_folder, "new-penguins.csv");
        File.WriteAllLines(newRows, File.ReadLines(PalmerPenguins.CsvPath).Take(1).Concat(File.ReadLines(PalmerPenguins.CsvPath).Skip(150).Take(100))
            .Where(line => !line.Contains("NA")));
        var modelPath = Path.Combine(_folder, "penguins.isaac");

        var ds = TabularDatasets.FromTable(TabularTable.ReadCsv(PalmerPenguins.CsvPath), new TabularOptions("species") { MissingValue = MissingValuePolicy.Drop });
        var trainer = new Trainer(DataLoaders.FromDatasetDict(ds, 32), Losses.ForTarget(ds.Target!), Optimizers.Adam,
                                  new Mlp(ds.Processor!.Width, [32, 16], ds.Target!.OutputSize),
                                  [new BasicTrainCB(), new MetricsCB(MetricNames.ForTarget(ds.Target!)), new DeviceCB()], lr: 0.01);
        trainer.Fit(5);
        ModelFile.Save(modelPath, Predictor.FromTrainer(trainer));
        var predictions = ModelFile.Load(modelPath).Predict(TabularTable.ReadCsv(newRows));

        var truth = TabularTable.ReadCsv(newRows).Rows.Select(r => (string)r[0]!).ToList();
        Assert.Equal(truth.Count, predictions.Count);
        double accuracy = predictions.Zip(truth).Count(p => (string)p.First.Value == p.Second) / (double)truth.Count;
        Assert.True(accuracy > 0.9, $"accuracy {accuracy}");
        Assert.All(predictions, p => Assert.Equal(3, p.Probabilities!.Count));
    }
}
