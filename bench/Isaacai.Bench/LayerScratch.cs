using System.Diagnostics;
using Isaacai.Runtime;
using static TorchSharp.torch;
namespace Isaacai.Bench;
internal static class LayerScratch
{
    public static void Run()
    {
        set_num_threads(1); TorchRuntime.DisableNnpack(); manual_seed(1);
        if (Environment.GetEnvironmentVariable("ISAACAI_NO_MKLDNN") == "1") ConvNetStepBench.SetMkldnn(false);
        foreach (var (ci, co, hw) in new[] { (1, 8, 28), (8, 16, 14), (16, 32, 7), (32, 64, 4), (64, 10, 2) })
        {
            using var conv = nn.Conv2d(ci, co, 3, stride: 2, padding: 1, bias: co == 10);
            var x = randn(64, ci, hw, hw);
            if (Cl) { x = ChannelsLast(x); using (no_grad()) conv.weight!.set_(ChannelsLast(conv.weight!.detach().clone())); }
            x.requires_grad_(ci != 1);
            var (f, b) = Time(() => conv.call(x));
            Console.WriteLine($"conv {ci}->{co} @{hw}: fwd {f:F0} us bwd {b:F0} us");
        }
        foreach (var (c, hw) in new[] { (8, 14), (16, 7), (32, 4), (64, 2) })
        {
            using var bn = nn.BatchNorm2d(c);
            var x = randn(64, c, hw, hw);
            if (Cl) x = ChannelsLast(x);
            x.requires_grad_(true);
            var (f, b) = Time(() => bn.call(x).relu());
            Console.WriteLine($"bn+relu {c} @{hw}: fwd {f:F0} us bwd {b:F0} us");
        }
    }
    static bool Cl => Environment.GetEnvironmentVariable("ISAACAI_CL") == "1";
    public static Tensor ChannelsLast(Tensor t) => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
    static (double, double) Time(Func<Tensor> forward)
    {
        var F = new List<double>(); var B = new List<double>();
        for (int i = 0; i < 300; i++)
        {
            using var scope = NewDisposeScope();
            long t0 = Stopwatch.GetTimestamp(); var y = forward(); long t1 = Stopwatch.GetTimestamp(); y.backward([ones_like(y)]); long t2 = Stopwatch.GetTimestamp();
            if (i >= 30) { F.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMicroseconds); B.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMicroseconds); }
        }
        return (F.Order().ElementAt(F.Count / 2), B.Order().ElementAt(B.Count / 2));
    }
}
