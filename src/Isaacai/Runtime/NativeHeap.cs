using System.Runtime.InteropServices;

namespace Isaacai.Runtime;

/// <summary>
/// glibc's malloc settings for libtorch's tensors. With glibc's defaults, memory a batch frees at the top of the
/// heap is handed back to the kernel as soon as more than a few hundred kilobytes are free there (its trim threshold
/// follows its mmap threshold, which grows only to the largest block freed so far), and the next batch takes it back
/// page by page: measured on the ConvNet job, 12% of the time went to page faults and the job took 1.3–1.5× as long
/// (README, "Speed of a batch"). Keeping freed memory for reuse costs at most <see cref="TrimThreshold"/> of retained heap.
/// </summary>
public static class NativeHeap
{
    /// <summary>Blocks up to this size come from the heap, not from a mapping of their own (glibc's own dynamic ceiling on 64-bit).</summary>
    public const int MmapThreshold = 32 << 20;

    /// <summary>Free memory at the top of the heap is returned to the kernel only beyond this much.</summary>
    public const int TrimThreshold = 128 << 20;

    // mallopt's parameter numbers, from glibc's malloc.h.
    private const int MallocTrimThreshold = -1, MallocMmapThreshold = -3;

    /// <summary>What decided the settings: glibc's defaults, the user's MALLOC_ variables, or <see cref="Tune"/>.</summary>
    public static string Setting { get; private set; } = "glibc defaults";

    private static bool tuned;

    /// <summary>
    /// Sets glibc's mmap and trim thresholds to <see cref="MmapThreshold"/> and <see cref="TrimThreshold"/>, once, for
    /// the whole process. Leaves them alone where the user set MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or
    /// MALLOC_TOP_PAD_ (or glibc.malloc tunables), and off glibc (another OS, musl). Returns whether they are set.
    /// </summary>
    public static bool Tune()
    {
        if (tuned) return true;
        if (UserSettings() is { } variables) { Setting = $"set by {variables}"; return false; }
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libc.so.6", out var libc) || !NativeLibrary.TryGetExport(libc, "mallopt", out var export))
            return false;
        var mallopt = Marshal.GetDelegateForFunctionPointer<Mallopt>(export);
        // Both or neither: a trim threshold alone freezes the mmap threshold at 128 KB, and a batch's activations
        // are then each mapped and unmapped (measured 10× slower); an mmap threshold alone leaves trimming at 128 KB.
        if (mallopt(MallocMmapThreshold, MmapThreshold) != 1 || mallopt(MallocTrimThreshold, TrimThreshold) != 1) return false;
        Setting = $"Isaacai: mmap threshold {MmapThreshold >> 20} MB, trim threshold {TrimThreshold >> 20} MB";
        return tuned = true;
    }

    private delegate int Mallopt(int parameter, int value);

    private static string? UserSettings()
    {
        var set = new[] { "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_" }
            .Where(name => Environment.GetEnvironmentVariable(name) is { Length: > 0 }).ToList();
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is { } tunables && tunables.Contains("glibc.malloc.", StringComparison.Ordinal))
            set.Add("GLIBC_TUNABLES");
        return set.Count > 0 ? string.Join(", ", set) : null;
    }
}
