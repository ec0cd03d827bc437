namespace Isaacai;

/// <summary>The fifteen points of the training loop where callbacks run, in the seed's order.</summary>
public enum Hook
{
    BeforeFit, AfterFit, CleanupFit,
    BeforeEpoch, AfterEpoch, CleanupEpoch,
    BeforeBatch, Predict, GetLoss, BeforeBackward, Backward, Step, ZeroGrad, AfterBatch, CleanupBatch,
}

/// <summary>Hook names as the seed spells them (<c>after_batch</c>) and as C# does (<c>AfterBatch</c>).</summary>
public static class HookNames
{
    private static readonly Hook[] AllHooks = Enum.GetValues<Hook>();
    private static readonly string[] SeedNames = AllHooks.Select(ToSeedName).ToArray();

    public static IReadOnlyList<Hook> All => AllHooks;

    /// <summary>The seed's names, e.g. <c>before_fit</c>, in hook order.</summary>
    public static IReadOnlyList<string> Seed => SeedNames;

    public static string ToSeedName(Hook hook) =>
        string.Concat(hook.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>Accepts <c>after_batch</c>, <c>AfterBatch</c> or <c>afterbatch</c>, in any case.</summary>
    public static bool TryParse(string? name, out Hook hook)
    {
        hook = default;
        if (string.IsNullOrWhiteSpace(name)) return false;
        var folded = Fold(name);
        foreach (var candidate in AllHooks)
        {
            if (Fold(candidate.ToString()) == folded) { hook = candidate; return true; }
        }
        return false;
    }

    /// <summary>Parses a hook name or throws an error that lists the valid names and the nearest one.</summary>
    public static Hook Parse(string? name) =>
        TryParse(name, out var hook) ? hook : throw new ArgumentException(DescribeUnknown(name), nameof(name));

    public static string DescribeUnknown(string? name)
    {
        var nearest = Nearest(name ?? "");
        return $"'{name}' is not a hook name. Did you mean '{nearest}'? Valid hooks: {string.Join(", ", SeedNames)}.";
    }

    /// <summary>The seed name closest to <paramref name="name"/> by edit distance over folded spellings.</summary>
    public static string Nearest(string name)
    {
        var folded = Fold(name);
        return SeedNames.MinBy(candidate => EditDistance(folded, Fold(candidate)))!;
    }

    private static string Fold(string name) => name.Replace("_", "").Replace("-", "").Trim().ToLowerInvariant();

    private static int EditDistance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
