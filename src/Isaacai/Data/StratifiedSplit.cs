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
        // Each class's members in one array of its exact size, counted first: a million rows' groups grown by doubling
        // would leave as much again of garbage that only a full collection frees.
        var list = items as IReadOnlyList<int> ?? items.ToList();
        var counts = new Dictionary<long, int>();
        foreach (var item in list)
        {
            long key = classOf?.Invoke(item) ?? 0;
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        var groups = counts.ToDictionary(c => c.Key, c => (Members: new int[c.Value], Filled: new int[1]));
        foreach (var item in list)
        {
            var (members, filled) = groups[classOf?.Invoke(item) ?? 0];
            members[filled[0]++] = item;
        }
        var random = new Random(seed);
        var takes = new List<(int[] Members, int Take)>();
        foreach (var key in counts.Keys.Order())
        {
            var members = groups[key].Members;
            random.Shuffle(members);
            int take = (int)Math.Round(members.Length * validFraction, MidpointRounding.AwayFromZero);
            if (members.Length >= 2) take = Math.Clamp(take, 1, members.Length - 1);
            takes.Add((members, take));
        }
        var train = new List<int>(list.Count - takes.Sum(t => t.Take));
        var valid = new List<int>(takes.Sum(t => t.Take));
        foreach (var (members, take) in takes)
        {
            valid.AddRange(members.AsSpan(0, take));
            train.AddRange(members.AsSpan(take));
        }
        train.Sort();
        valid.Sort();
        return (train, valid);
    }
}
