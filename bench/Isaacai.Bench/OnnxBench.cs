using System.Diagnostics;
using Isaacai.Data;
using Isaacai.Data.Images;
using Isaacai.Data.Tabular;
using Isaacai.Inference;
using Isaacai.Models;
using Isaacai.Models.Vision;
using Isaacai.Onnx;
using Microsoft.ML.OnnxRuntime;
using static Isaacai.Tests.OnnxFeeds;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Isaacai.Bench;

/// <summary>
/// The ONNX export per architecture (build.ps1 Bench -BenchCase onnx): the median time of <see cref="OnnxExport.Save"/>
/// over five runs, the file's size, and the largest difference between TorchSharp's outputs and ONNX Runtime's on the same
/// inputs (4 samples; images 224×224), torch and ONNX Runtime at one thread. Batch norms first see a few random batches in
/// train mode, so their running statistics are not the initial 0 and 1. The files stay in <c>--out</c> (for
/// tests/fixtures/onnx/check_onnx.py) or a temporary folder.
/// </summary>
internal static class OnnxBench
{
    public static void Run(string? folder, TextWriter output)
    {
        set_num_threads(1);
        Runtime.TorchRuntime.DisableNnpack(); // as the module does at import: this machine's CPU cannot run it, and libtorch says so at every 1×1 convolution
        folder ??= Directory.CreateTempSubdirectory("isaacai-onnx-bench-").FullName;
        Directory.CreateDirectory(folder);
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        output.WriteLine($"ONNX export, opset {OnnxExport.Opset}, ONNX Runtime {OrtEnv.Instance().GetVersionString()}; files in {folder}");
        output.WriteLine("| architecture | input | export time | file size | max abs diff | largest output |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- |");

        Isaac.SetSeed(1);
        var table = TabularTable.ReadCsv(PalmerPenguins.CsvPath);
        var penguins = TabularDatasets.FromTable(table, new TabularOptions("species") { MissingValue = MissingValuePolicy.Mean });
        var processor = penguins.Processor!;
        var tabular = new Predictor(Settled(new Mlp(new MlpOptions(processor.Width, [32, 16], 3, MlpActivation.ReLU, 0.1, BatchNorm: true)), 64, processor.Width), processor: processor);
        Measure("penguins-species", "species: Mlp 32-16, ReLU, batch norm, dropout", "344 rows, 7 columns", tabular, null, () => (processor.Transform(table), Columns(processor, table)));
        var masses = TabularDatasets.FromTable(table, new TabularOptions("body_mass_g") { MissingValue = MissingValuePolicy.Mean });
        var massProcessor = masses.Processor!;
        var regression = new Predictor(Settled(new Mlp(new MlpOptions(massProcessor.Width, [32], 1, MlpActivation.GELU, BatchNorm: true)), 64, massProcessor.Width), processor: massProcessor);
        Measure("penguins-mass", "body mass (regression): Mlp 32, GELU, batch norm", "344 rows, 6 columns", regression, null, () => (massProcessor.Transform(table), Columns(massProcessor, table)));

        var classes = TargetSpec.Classification("label", [.. Enumerable.Range(0, 10).Select(i => $"c{i}")]);
        Isaac.SetSeed(2);
        var simple = new Predictor(new SimpleNet(784, 64, 10), classes);
        Measure("simplenet", "SimpleNet 784-64-10", "4×1×28×28", simple, [1, 28, 28], () => Images(4, 1, 28));
        var conv = new Predictor(Settled(new ConvNet(new ConvNetOptions(1, null, 10)), 16, 1, 28, 28), classes);
        Measure("convnet", "ConvNet 8-16-32-64", "4×1×28×28", conv, null, () => Images(4, 1, 28));
        foreach (var architecture in new[] { "resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large" })
        {
            var images = new ImagePipeline(224, 224, 3, ResizeMethod.Crop, ImagePipeline.ImageNetMean, ImagePipeline.ImageNetStd);
            var vision = new Predictor(Settled(new VisionModel(new VisionModelOptions(architecture, 10)), 4, 3, 64, 64), classes, images: images);
            Measure(architecture, architecture, "4×3×224×224", vision, null, () => Images(4, 3, 224));
            vision.Model.Dispose();
        }

        void Measure(string file, string name, string input, Predictor predictor, long[]? shape, Func<(Tensor Encoded, NamedOnnxValue[] Inputs)> inputs)
        {
            var path = Path.Combine(folder, file + ".onnx");
            var seconds = new List<double>();
            for (int i = 0; i < 5; i++)
            {
                var clock = Stopwatch.StartNew();
                OnnxExport.Save(path, predictor, shape);
                seconds.Add(clock.Elapsed.TotalSeconds);
            }
            var (encoded, feeds) = inputs();
            using (encoded)
            using (var expected = predictor.Outputs(encoded))
            using (var session = new InferenceSession(path, options))
            using (var results = session.Run(feeds))
            {
                var actual = results.Single(r => r.Name == "output").AsTensor<float>().ToArray();
                var wanted = expected.data<float>().ToArray();
                double difference = wanted.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
                output.WriteLine($"| {name} | {input} | {seconds.Order().ElementAt(2) * 1000:F0} ms | {new FileInfo(path).Length / 1024.0:N0} KiB | {difference:G2} | {wanted.Max(Math.Abs):G2} |");
            }
        }
    }

    private static (Tensor, NamedOnnxValue[]) Images(int n, int channels, int size)
    {
        var x = randn(n, channels, size, size);
        return (x, [Floats(OnnxExport.TensorInputName, x)]);
    }
}
