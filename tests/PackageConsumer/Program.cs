// One epoch on the Fashion-MNIST sample that the package ships, as in the README's C# example; prints
// what the test checks as JSON.
using System.Text.Json;
using Isaacai;
using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Metrics;
using Isaacai.Models;
using TorchSharp;
using static TorchSharp.torch;

torch.set_num_threads(1);
Isaac.SetSeed(42);
var dls = DataLoaders.FromDatasetDict(FashionMnist.LoadSample(), 64);
var metrics = new MetricsCB(("Accuracy", new MulticlassAccuracy()));
var trainer = new Trainer(dls, nn.CrossEntropyLoss(), Optimizers.Adam, new SimpleNet(784, 64, 10),
                          [new BasicTrainCB(), metrics, new DeviceCB()]);
trainer.Fit(1);
Console.WriteLine(JsonSerializer.Serialize(new
{
    Epochs = metrics.Records.Count,
    Accuracy = metrics.Records[0].Metrics["Accuracy"],
    Engine = typeof(Trainer).Assembly.Location,
}));
