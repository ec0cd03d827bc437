using System.Diagnostics;
using System.Text.Json;
using Isaacai.Models;
using Isaacai.Runtime;
using static TorchSharp.torch;

namespace Isaacai.Bench;

/// <summary>
/// Isaacai's side of the ConvNet benchmark against PyTorch (bench/ConvNetBench.ps1): <c>New-IsaacConvNet</c>'s default
/// ConvNet (8-16-32-64, 28×28 grayscale, 10 classes) trained on one batch of 64 random images with Adam 1e-3, torch at
/// one thread; the median forward (with the loss), backward and step times over <c>steps</c> after <c>warmup</c>,
/// printed as one JSON line, as the PyTorch peer prints its own.
/// </summary>
internal static class ConvNetStepBench
{
    public static void Run(int steps, int warmup, string optimizer, TextWriter output)
    {
        set_num_threads(1);
        TorchRuntime.DisableNnpack(); // as the module does
        if (Environment.GetEnvironmentVariable("ISAACAI_NO_MKLDNN") == "1") SetMkldnn(false);
        Isaac.SetSeed(1);
        using var model = new ConvNet(new ConvNetOptions());
        model.train();
        using var loss = nn.CrossEntropyLoss();
        bool cl = Environment.GetEnvironmentVariable("ISAACAI_CL") == "1";
        if (cl) using (no_grad()) foreach (var p in model.parameters()) if (p.dim() == 4) p.set_(LayerScratch.ChannelsLast(p.detach().clone()));
        using var opt = Optimizers.FromName(optimizer)(model.parameters(), 1e-3);
        var x = randn(64, 1, 28, 28);
        if (cl) x = LayerScratch.ChannelsLast(x);
        var y = randint(0, 10, [64]);
        var (forward, backward, step) = (new List<double>(), new List<double>(), new List<double>());
        for (int i = 0; i < warmup + steps; i++)
        {
            using var scope = NewDisposeScope();
            long t0 = Stopwatch.GetTimestamp();
            var output_ = loss.call(model.call(x), y);
            long t1 = Stopwatch.GetTimestamp();
            output_.backward();
            long t2 = Stopwatch.GetTimestamp();
            opt.step();
            opt.zero_grad();
            long t3 = Stopwatch.GetTimestamp();
            if (i < warmup) continue;
            forward.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
            backward.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
            step.Add(Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds);
        }
        static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        output.WriteLine(JsonSerializer.Serialize(new { side = "isaacai", forward_ms = Median(forward), backward_ms = Median(backward), step_ms = Median(step),
            seconds_per_step = (Median(forward) + Median(backward) + Median(step)) / 1000 }));
    }

    private delegate IntPtr GlobalContext();
    private delegate void SetFlag(IntPtr context, byte enabled);
    public static void SetMkldnn(bool enabled)
    {
        var lib = System.Runtime.InteropServices.NativeLibrary.Load("libtorch_cpu.so");
        var ctx = System.Runtime.InteropServices.Marshal.GetDelegateForFunctionPointer<GlobalContext>(System.Runtime.InteropServices.NativeLibrary.GetExport(lib, "_ZN2at13globalContextEv"))();
        System.Runtime.InteropServices.Marshal.GetDelegateForFunctionPointer<SetFlag>(System.Runtime.InteropServices.NativeLibrary.GetExport(lib, "_ZN2at7Context20setUserEnabledMkldnnEb"))(ctx, enabled ? (byte)1 : (byte)0);
    }
}
