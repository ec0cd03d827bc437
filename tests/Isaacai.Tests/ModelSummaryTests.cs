using Isaacai.Models;
using Isaacai.Models.Vision;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Isaacai.Tests;

public sealed class ModelSummaryTests
{
    /// <summary>A model of one's own whose ReLU runs twice, and whose Linear's forward is called directly (no hook sees it).</summary>
    private sealed class SharedRelu : nn.Module<Tensor, Tensor>
    {
        private readonly Linear first = nn.Linear(4, 8), second = nn.Linear(8, 8), hidden = nn.Linear(8, 2);
        private readonly ReLU relu = nn.ReLU();

        public SharedRelu() : base(nameof(SharedRelu)) => RegisterComponents();

        public override Tensor forward(Tensor x)
        {
            using var a = first.call(x);
            using var b = relu.call(a);
            using var c = second.call(b);
            using var d = relu.call(c);
            return hidden.forward(d);
        }
    }

    [Fact]
    public void A_ConvNet_has_a_row_per_layer_with_its_output_shape_and_parameters()
    {
        var model = new ConvNet(new ConvNetOptions(InputChannels: 1, Channels: [8, 16], OutputSize: 10));
        model.train();
        var summary = ModelSummary.Of(model, [1, 28, 28]);
        Assert.True(model.training); // its mode is put back
        Assert.Equal([10L], summary.OutputShape);
        var first = summary.Layers[0];
        Assert.Equal(("layers.0.0", "Conv2d"), (first.Name, first.Type));
        Assert.Equal([8L, 14, 14], first.OutputShape);
        Assert.Equal(8 * 1 * 3 * 3, first.Parameters);
        Assert.Equal(LayerTraining.Trainable, first.Training);
        Assert.Equal(("layers.0.1", "BatchNorm2d", 16L), (summary.Layers[1].Name, summary.Layers[1].Type, summary.Layers[1].Parameters));
        Assert.Equal(LayerTraining.NoParameters, summary.Layers[2].Training);
        Assert.Equal("Flatten", summary.Layers[^1].Type);
        Assert.Equal(model.parameters().Sum(p => p.numel()), summary.TotalParameters);
        Assert.Equal(summary.TotalParameters, summary.Layers.Sum(l => l.Parameters));
        Assert.Equal(0, summary.FrozenParameters);
        Assert.Contains($"Total params: {summary.TotalParameters.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)}; trainable:", summary.ToString());
        Assert.Contains("layers.0.0  Conv2d", summary.ToString());
    }

    [Fact]
    public void A_frozen_vision_model_shows_frozen_convolutions_and_trainable_BatchNorm()
    {
        using var model = new VisionModel(new VisionModelOptions("resnet18", 10));
        model.Freeze();
        var summary = ModelSummary.Of(model, [3, 64, 64]);
        var byName = summary.Layers.ToDictionary(l => l.Name);
        Assert.Equal(LayerTraining.Frozen, byName["conv1"].Training);
        Assert.Equal([64L, 32, 32], byName["conv1"].OutputShape);
        Assert.Equal(LayerTraining.Trainable, byName["bn1"].Training);
        Assert.Equal([512L, 2, 2], byName["layer4.1.bn2"].OutputShape);
        Assert.Equal(LayerTraining.Trainable, byName["fc"].Training);
        Assert.Equal([10L], byName["fc"].OutputShape);
        long batchNorm = model.named_modules().Where(m => m.module is BatchNorm).Sum(m => m.module.parameters().Sum(p => p.numel()));
        Assert.Equal(512 * 10 + 10 + batchNorm, summary.TrainableParameters);
        Assert.Equal(summary.TotalParameters - summary.TrainableParameters, summary.FrozenParameters);
    }

    [Fact]
    public void A_shared_layer_is_a_row_per_call_counted_once_and_a_layer_no_hook_saw_comes_last_without_a_shape()
    {
        var summary = ModelSummary.Of(new SharedRelu(), [4]);
        Assert.Equal(["first", "relu", "second", "relu", "hidden"], summary.Layers.Select(l => l.Name));
        Assert.Equal([8L], summary.Layers[1].OutputShape);
        Assert.Null(summary.Layers[^1].OutputShape);
        Assert.Equal(2 * 8 + 2, summary.Layers[^1].Parameters);
        Assert.Equal(4 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2, summary.Layers.Sum(l => l.Parameters));
        Assert.Equal([2L], summary.OutputShape);
    }

    [Fact]
    public void An_input_shape_with_a_zero_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelSummary.Of(nn.Linear(2, 2), [0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelSummary.Of(nn.Linear(2, 2), []));
    }
}
