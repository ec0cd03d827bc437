using Isaacai.Build;
using Isaacai.Runtime;

namespace Isaacai.Tests;

public class RuntimeTests
{
    private static string Here(string file) => Path.Combine(AppContext.BaseDirectory, file);

    [Fact]
    public void The_glibcxx_check_tells_the_patched_copy_from_the_packages_original()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var original = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.False(ElfVersionNeeds.NeedsWeakly(original, TorchRuntime.WeakenedGlibcxxVersion));
        Assert.True(ElfVersionNeeds.NeedsWeakly(Here("libLibTorchSharp.so"), TorchRuntime.WeakenedGlibcxxVersion));
        Assert.Null(ElfVersionNeeds.NeedsWeakly(Here("libLibTorchSharp.so"), "GLIBCXX_99.0"));
    }

    [Fact]
    public void The_environment_names_the_loaded_natives_and_the_thread_count()
    {
        TorchRuntime.SetThreads(1);
        var environment = TorchRuntime.Describe();
        Assert.Equal(1, environment.Threads);
        Assert.Equal("SetThreads", environment.ThreadsSetBy);
        Assert.Equal("0.107.0", environment.TorchSharp);
        Assert.Equal(Path.GetDirectoryName(Here("libLibTorchSharp.so")), environment.NativeFolder);
        Assert.StartsWith("applied", environment.GlibcxxPatch);
        Assert.Contains("cpu", environment.Devices);
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchRuntime.SetThreads(0));
    }

    [Fact]
    public void The_native_heap_setting_is_taken_once_and_reported()
    {
        Assert.True(NativeHeap.Tune());
        Assert.True(NativeHeap.Tune());
        Assert.Equal($"Isaacai: mmap threshold {NativeHeap.MmapThreshold >> 20} MB, trim threshold {NativeHeap.TrimThreshold >> 20} MB", TorchRuntime.Describe().NativeHeap);
    }
}
