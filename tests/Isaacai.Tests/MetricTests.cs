using Isaacai.Metrics;
using static TorchSharp.torch;

namespace Isaacai.Tests;

public sealed class MetricTests
{
    [Fact]
    public void Rmse_and_mae_are_computed_over_every_batch_and_scaled_to_the_target_units()
    {
        var rmse = new Rmse { Scale = 10 };
        var mae = new Mae { Scale = 10 };
        foreach (var metric in new IMetric[] { rmse, mae })
        {
            metric.Reset();
            using (var p = tensor(new float[] { 1, 2 }, [2, 1])) using (var t = tensor(new float[] { 2, 2 }, [2, 1])) metric.Update(p, t);
            using (var p = tensor(new float[] { 3 }, [1, 1])) using (var t = tensor(new float[] { 5 }, [1, 1])) metric.Update(p, t);
        }
        Assert.Equal(Math.Sqrt(5.0 / 3) * 10, rmse.Compute(), 9);
        Assert.Equal(10.0, mae.Compute(), 9);
        rmse.Reset();
        Assert.True(double.IsNaN(rmse.Compute()));
    }

    [Fact]
    public void Macro_f1_averages_the_classes_that_occur()
    {
        var f1 = new MacroF1();
        f1.Reset();
        using var preds = tensor(new float[] { 0.9f, 0.1f, 0f, 0.2f, 0.8f, 0f, 0.3f, 0.7f, 0f }, [3, 3]); // predicts 0, 1, 1
        using var targets = tensor(new long[] { 0, 1, 0 });
        f1.Update(preds, targets);
        Assert.Equal(2.0 / 3, f1.Compute(), 9); // class 0: 2·1/(2+1); class 1: 2·1/(1+2); class 2 never occurs
    }
}
