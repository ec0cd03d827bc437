namespace Isaacai.Tests;

/// <summary>
/// Derives the expected trace of a fit in which the n-th call of one hook throws, from the trace of the
/// same fit without the throw. Scopes are read off that trace (before_X opens one, cleanup_X closes it),
/// then the seed's rule applies: the innermost enclosing scope of the cancel's own level skips the rest
/// of its body and its after_X; every scope left on the way runs its cleanup; a throw that no scope
/// catches runs every enclosing cleanup and escapes the fit, but for a CancelFit, which ends it as cancelled.
/// </summary>
internal static class TraceOracle
{
    public static (List<string> Trace, bool Escapes) Expected(IReadOnlyList<string> normal, string hook, int call, LoopLevel? cancelLevel)
    {
        int at = IndexOfCall(normal, hook, call);
        var expected = normal.Take(at + 1).ToList();
        foreach (var (level, open, close) in EnclosingScopes(normal, at))
        {
            expected.Add(normal[close]);
            if (level == cancelLevel && at != close)
            {
                expected.AddRange(normal.Skip(close + 1));
                return (expected, false);
            }
        }
        // Nothing caught it. A CancelFit gets this far only from cleanup_fit, and never escapes a fit.
        return (expected, cancelLevel != LoopLevel.Fit);
    }

    public static int IndexOfCall(IReadOnlyList<string> trace, string hook, int call) =>
        trace.Select((entry, index) => (entry, index)).Where(e => e.entry == hook).Skip(call - 1).Select(e => e.index).DefaultIfEmpty(-1).First();

    /// <summary>The scopes whose before..cleanup span holds <paramref name="at"/> (cleanup excluded), innermost first.</summary>
    private static IEnumerable<(LoopLevel Level, int Open, int Close)> EnclosingScopes(IReadOnlyList<string> trace, int at)
    {
        var stack = new Stack<(LoopLevel Level, int Open)>();
        var scopes = new List<(LoopLevel, int, int)>();
        for (int i = 0; i < trace.Count; i++)
        {
            var (kind, level) = Classify(trace[i]);
            if ((int)level < 0) continue; // before_backward is a batch hook, not a scope
            if (kind == "before") stack.Push((level, i));
            if (kind == "cleanup")
            {
                var (openLevel, open) = stack.Pop();
                if (openLevel != level) throw new InvalidOperationException($"Unbalanced trace at {i}: {trace[i]}");
                if (open <= at && at < i) scopes.Add((level, open, i));
            }
        }
        return scopes.OrderByDescending(s => s.Item2);
    }

    private static (string Kind, LoopLevel Level) Classify(string entry)
    {
        var parts = entry.Split('_');
        var level = parts[^1] switch { "fit" => LoopLevel.Fit, "epoch" => LoopLevel.Epoch, "batch" => LoopLevel.Batch, _ => (LoopLevel)(-1) };
        return (parts[0], level);
    }
}
