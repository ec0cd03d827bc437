using System.Reflection;
using System.Runtime.InteropServices;
using Isaacai.Build;
using static TorchSharp.torch;

namespace Isaacai.Runtime;

/// <summary>
/// libtorch's process-wide settings that decide speed here (its intra-op thread count), and a report of what
/// was loaded from where, for bug reports.
/// </summary>
public static class TorchRuntime
{
    /// <summary>The version need that the build marks weak in libLibTorchSharp.so (src/Isaacai.Build/LibTorchSharpPatch.targets).</summary>
    public const string WeakenedGlibcxxVersion = "GLIBCXX_3.4.32";

    /// <summary>
    /// Half the logical cores, at least one. Measured with <c>build.ps1 Bench -BenchCase threads</c> (README): on
    /// 2 cores one thread was as fast or faster, and two threads became 3–9× slower once another process kept
    /// a core busy, since libtorch's threads then wait on each other.
    /// </summary>
    public static int DefaultThreads => Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Who chose the current thread count: libtorch, OMP_NUM_THREADS, Isaacai's default, or a call to <see cref="SetThreads"/>.</summary>
    public static string ThreadsSetBy { get; private set; } = "libtorch";

    /// <summary>Sets libtorch's intra-op thread count for the whole process.</summary>
    public static void SetThreads(int count, string setBy = "SetThreads")
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "The thread count must be at least 1.");
        set_num_threads(count);
        ThreadsSetBy = setBy;
    }

    /// <summary>Applies <see cref="DefaultThreads"/>, unless OMP_NUM_THREADS says otherwise (libtorch reads it itself).</summary>
    public static void ApplyDefaultThreads()
    {
        if (Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is { Length: > 0 })
        {
            _ = get_num_threads(); // loads libtorch, which reads the variable
            ThreadsSetBy = "OMP_NUM_THREADS";
        }
        else SetThreads(DefaultThreads, "Isaacai default");
    }

    private delegate IntPtr GlobalContext();
    private delegate void SetUserEnabledNnpack(IntPtr context, byte enabled);

    /// <summary>Whether <see cref="DisableNnpack"/> has switched NNPACK off in this process.</summary>
    public static bool NnpackDisabled { get; private set; }

    /// <summary>
    /// Switches off libtorch's NNPACK convolutions, as PyTorch's <c>torch.backends.nnpack.set_flags(False)</c>
    /// does. On a CPU where NNPACK cannot start (virtual machines among them), libtorch 2.10 prints "Could not
    /// initialize NNPACK! Reason: Unsupported hardware." at every convolution of one sample or of a 1×1
    /// kernel: thousands of lines for a MobileNet fit, one for each file predicted. Convolutions then take
    /// libtorch's other CPU paths. Linux only (the C++ names are the Itanium ABI's); false where not done.
    /// </summary>
    public static bool DisableNnpack()
    {
        if (NnpackDisabled) return true;
        if (!TryGetLibTorchExport("_ZN2at13globalContextEv", out var globalContext)
            || !TryGetLibTorchExport("_ZN2at7Context20setUserEnabledNNPACKEb", out var setEnabled))
            return false;
        var context = Marshal.GetDelegateForFunctionPointer<GlobalContext>(globalContext)();
        Marshal.GetDelegateForFunctionPointer<SetUserEnabledNnpack>(setEnabled)(context, 0);
        return NnpackDisabled = true;
    }

    /// <summary>
    /// An export of the libtorch_cpu.so this process loaded (loading libtorch first, so the handle is that library's).
    /// Linux only; false where the library or the symbol is not there.
    /// </summary>
    internal static bool TryGetLibTorchExport(string name, out IntPtr address)
    {
        address = IntPtr.Zero;
        if (!OperatingSystem.IsLinux()) return false;
        _ = get_num_threads();
        return NativeLibrary.TryLoad("libtorch_cpu.so", out var library) && NativeLibrary.TryGetExport(library, name, out address);
    }

    /// <summary>Versions, threads, devices, and where the native libraries were loaded from.</summary>
    public static TorchEnvironment Describe()
    {
        int threads = get_num_threads(); // loads the natives first, so the maps below list them
        var devices = new List<string> { "cpu" };
        if (cuda.is_available()) devices.AddRange(Enumerable.Range(0, cuda.device_count()).Select(i => $"cuda:{i}"));
        var loaded = LoadedLibraries();
        string? libTorchSharp = loaded.FirstOrDefault(p => Path.GetFileName(p) == "libLibTorchSharp.so");
        return new TorchEnvironment(
            InformationalVersion(typeof(TorchRuntime).Assembly), InformationalVersion(typeof(TorchSharp.torch).Assembly), __version__,
            threads, get_num_interop_threads(), ThreadsSetBy, Environment.ProcessorCount, devices,
            libTorchSharp is null ? null : Path.GetDirectoryName(libTorchSharp),
            loaded.FirstOrDefault(p => Path.GetFileName(p).StartsWith("libstdc++.so", StringComparison.Ordinal)),
            GlibcxxPatch(libTorchSharp), NativeHeap.Setting);
    }

    private static string GlibcxxPatch(string? libTorchSharp)
    {
        if (libTorchSharp is null) return "unknown: libLibTorchSharp.so is not loaded";
        return ElfVersionNeeds.NeedsWeakly(libTorchSharp, WeakenedGlibcxxVersion) switch
        {
            true => $"applied: {WeakenedGlibcxxVersion} is a weak need",
            false => $"not applied: {WeakenedGlibcxxVersion} is a strict need",
            null => $"not needed: no {WeakenedGlibcxxVersion} need",
        };
    }

    /// <summary>The files mapped into this process, from /proc/self/maps (Linux).</summary>
    private static List<string> LoadedLibraries() => File.Exists("/proc/self/maps")
        ? File.ReadLines("/proc/self/maps").Select(line => line.IndexOf('/') is var at and >= 0 ? line[at..] : null)
            .OfType<string>().Where(p => p.Contains(".so", StringComparison.Ordinal)).Distinct().ToList()
        : [];

    private static string InformationalVersion(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
            ?? assembly.GetName().Version?.ToString() ?? "unknown";
}

/// <summary>What <see cref="TorchRuntime.Describe"/> reports.</summary>
public sealed record TorchEnvironment(
    string Isaacai, string TorchSharp, string LibTorch, int Threads, int InteropThreads, string ThreadsSetBy, int Cores,
    IReadOnlyList<string> Devices, string? NativeFolder, string? LibStdCxx, string GlibcxxPatch, string NativeHeap);
