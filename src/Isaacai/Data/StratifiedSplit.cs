using System.Runtime.InteropServices;

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
        // Each class's members in one list of its exact size, counted first: a million rows' groups grown by doubling
        // would leave as much again of garbage that only a full collection frees.
        var list = items as IReadOnlyList<int> ?? items.ToList();
        var counts = new Dictionary<long, int>();
        foreach (var item in list)
        {
            long key = classOf?.Invoke(item) ?? 0;
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        var groups = counts.ToDictionary(c => c.Key, c => new List<int>(c.Value));
        foreach (var item in list) groups[classOf?.Invoke(item) ?? 0].Add(item);
        var random = new Random(seed);
        var takes = new List<(List<int> Members, int Take)>();
        foreach (var key in counts.Keys.Order())
        {
            var members = groups[key];
            random.Shuffle(CollectionsMarshal.AsSpan(members));
            int take = (int)Math.Round(members.Count * validFraction, MidpointRounding.AwayFromZero);
            if (members.Count >= 2) take = Math.Clamp(take, 1, members.Count - 1);
            takes.Add((members, take));
        }
        var train = new List<int>(list.Count - takes.Sum(t => t.Take));
        var valid = new List<int>(takes.Sum(t => t.Take));
        foreach (var (members, take) in takes)
        {
            valid.AddRange(CollectionsMarshal.AsSpan(members)[..take]);
            train.AddRange(CollectionsMarshal.AsSpan(members)[take..]);
        }
        train.Sort();
        valid.Sort();
        return (train, valid);
    }
}
