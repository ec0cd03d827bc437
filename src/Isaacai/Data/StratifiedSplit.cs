namespace Isaacai.Data;

/// <summary>Train and valid splits that keep each class's share: tables and image folders split alike.</summary>
internal static class StratifiedSplit
{
    /// <summary>
    /// Each class of <paramref name="items"/> (or, with no <paramref name="classOf"/>, all of them) shuffled by
    /// <paramref name="seed"/> and cut by <paramref name="validFraction"/>; every class of two or more lands in
    /// both splits, and both splits keep the items' order.
    /// </summary>
    public static (List<int> Train, List<int> Valid) Of(IEnumerable<int> items, Func<int, long>? classOf, double validFraction, int seed)
    {
        var random = new Random(seed);
        var train = new List<int>();
        var valid = new List<int>();
        foreach (var group in items.GroupBy(i => classOf?.Invoke(i) ?? 0).OrderBy(g => g.Key))
        {
            var members = group.ToArray();
            random.Shuffle(members);
            int take = (int)Math.Round(members.Length * validFraction, MidpointRounding.AwayFromZero);
            if (members.Length >= 2) take = Math.Clamp(take, 1, members.Length - 1);
            valid.AddRange(members.Take(take));
            train.AddRange(members.Skip(take));
        }
        train.Sort();
        valid.Sort();
        return (train, valid);
    }
}
