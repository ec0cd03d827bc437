using System.Collections;
using System.Collections.Specialized;
using System.Linq.Expressions;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;
using Isaacai.Data.Tabular;

namespace Isaacai.PowerShell;

/// <summary>Reads the properties of whatever arrives on the pipeline: objects of any kind, or hashtables.</summary>
internal static class PSValues
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;

    /// <summary>
    /// The rows in an array or list given as one value (to -InputObject, say); null for a single row. A dictionary,
    /// a string or a PSCustomObject is one row, not a collection of them; asking PowerShell whether one of those
    /// enumerates takes a lock for each row, a third of a row's cost.
    /// </summary>
    public static IEnumerable<PSObject?>? Rows(PSObject value)
    {
        if (value.BaseObject is PSCustomObject or IDictionary or string || LanguagePrimitives.GetEnumerable(value.BaseObject) is not { } items) return null;
        return items.Cast<object?>().Select(item => item is null ? null : PSObject.AsPSObject(item));
    }

    /// <summary>A value (text, a number, a date, any struct) rather than a row of named cells: its properties (a string's Length) are not columns.</summary>
    public static bool IsValue(object value) => value is string or ValueType;

    /// <summary>The error for a value given where a row belongs, naming the row (counting inputs from 1).</summary>
    public static string NotARow(object value, long row)
    {
        var text = LanguagePrimitives.ConvertTo<string>(value) ?? "";
        if (text.Length > 60) text = text[..57] + "...";
        var type = value.GetType().Name;
        var article = "AEIOUaeiou".Contains(type[0]) ? "an" : "a";
        // Get-Content's lines are the usual way text arrives where rows belong.
        var hint = value is string ? " (a CSV file's rows come from Import-Csv, or from -Path, not Get-Content)" : "";
        return $"Row {row} is {article} {type} ('{text}'), not a row: give objects with properties (Import-Csv, ConvertFrom-Json, [pscustomobject]) or hashtables, one per row{hint}.";
    }

    /// <summary>
    /// An object's properties (or a dictionary's entries) as name → value, in their order. Names are kept as
    /// spelt: a case-sensitive dictionary's <c>Age</c> and <c>age</c> both come through, for the caller to refuse.
    /// </summary>
    public static IReadOnlyDictionary<string, object?> Properties(PSObject item)
    {
        var cells = new RowCells();
        cells.Read(item);
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (int i = 0; i < cells.Count; i++) result[cells.Names[i]] = cells.Values[i];
        return result;
    }

    /// <summary>
    /// One row's cells at a time: an object's properties (or a dictionary's entries), names as spelt and values
    /// unwrapped, in their order, into arrays reused from row to row. Objects from Import-Csv and ConvertFrom-Json
    /// (PSCustomObject) are read from their own note properties: PowerShell's Properties collection gathers every
    /// member source again for each object, and even their own members' enumerator copies them.
    /// </summary>
    public sealed class RowCells
    {
        public string[] Names { get; private set; } = new string[16];
        public object?[] Values { get; private set; } = new object?[16];
        public int Count { get; private set; }

        // Per row or cell from a cold start: optimized at once, not tiered up partway through (the objects path 20% faster).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Read(PSObject item)
        {
            Count = 0;
            if (item.BaseObject is IDictionary dictionary)
            {
                // Key and Value, not Current, which boxes a DictionaryEntry per cell.
                for (var entries = dictionary.GetEnumerator(); entries.MoveNext();) Add(entries.Key?.ToString() ?? "", entries.Value);
                return;
            }
            if (item.BaseObject is PSCustomObject && OwnMembers?.Invoke(item) is { } members)
            {
                // Read on the pipeline thread without PowerShell's lock, which took a third of a row's time here.
                for (int i = 0; i < members.Count; i++)
                    if (members[i] is PSPropertyInfo { IsGettable: true } own && !IsReserved(own.Name)) Add(own.Name, SafeValue(own));
                return;
            }
            foreach (var property in item.Properties)
                if (property.IsGettable) Add(property.Name, SafeValue(property));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Add(string name, object? value)
        {
            if (Count == Names.Length) Grow();
            Names[Count] = name;
            // A nested object (ConvertFrom-Json's) stays wrapped: unwrapped, it is PowerShell's empty PSCustomObject stand-in.
            Values[Count++] = value is PSObject { BaseObject: PSCustomObject } ? value : Unwrap(value);
        }

        private void Grow()
        {
            Names = [.. Names, .. new string[Count]];
            Values = [.. Values, .. new object?[Count]];
        }
    }

    /// <summary>Members PowerShell adds to every object once a script touches them (pstypenames, say), which are never its data.</summary>
    private static readonly HashSet<string> ReservedMembers = new(["psbase", "psadapted", "psextended", "psobject", "pstypenames"], StringComparer.OrdinalIgnoreCase);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsReserved(string name) => name.StartsWith("ps", StringComparison.OrdinalIgnoreCase) && ReservedMembers.Contains(name);

    /// <summary>
    /// A PSObject's own members (the note properties Add-Member, Import-Csv and ConvertFrom-Json give it), in their
    /// order, from the ordered dictionary PowerShell keeps them in (internal, so compiled once from its members
    /// found by name); null where a PowerShell version has no such members, and Properties serves.
    /// </summary>
    private static readonly Func<PSObject, OrderedDictionary?>? OwnMembers = CompileOwnMembers();

    private static Func<PSObject, OrderedDictionary?>? CompileOwnMembers()
    {
        const BindingFlags Instance = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance;
        if (typeof(PSObject).GetProperty("InstanceMembers", Instance) is not { } instanceMembers
            || instanceMembers.PropertyType.GetProperty("Members", Instance) is not { } members
            || members.PropertyType != typeof(OrderedDictionary)) return null;
        var item = Expression.Parameter(typeof(PSObject), "item");
        return Expression.Lambda<Func<PSObject, OrderedDictionary?>>(Expression.Property(Expression.Property(item, instanceMembers), members), item).Compile();
    }

    /// <summary>Where <paramref name="name"/> is among <paramref name="names"/>, ignoring case, as PowerShell matches property names; -1 if it is not.</summary>
    public static int IndexOfName(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
            if (string.Equals(names[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    /// <summary>The error for a case-sensitive dictionary's Age and age, say, given where <paramref name="name"/> is matched ignoring case: taking either would silently drop the other.</summary>
    public static string KeysDifferOnlyInCase(string first, string second, string name) =>
        $"The keys '{first}' and '{second}' differ only in case; '{name}' is matched ignoring case, so it is not clear which is meant. Rename one of them.";

    /// <summary>One property's value by name (ignoring case); <paramref name="found"/> says whether it exists at all.</summary>
    public static object? Property(PSObject item, string name, out bool found)
    {
        if (item.BaseObject is IDictionary dictionary)
        {
            string? key = null;
            object? value = null;
            foreach (DictionaryEntry entry in dictionary)
            {
                var entryKey = entry.Key?.ToString();
                if (!string.Equals(entryKey, name, StringComparison.OrdinalIgnoreCase)) continue;
                // A case-sensitive dictionary may hold Age and age: taking either would silently drop the other.
                if (key is not null) throw new TabularDataException(KeysDifferOnlyInCase(key, entryKey!, name), name);
                (key, value) = (entryKey, entry.Value);
            }
            found = key is not null;
            return Unwrap(value);
        }
        var property = item.Properties[name];
        found = property is not null;
        return property is null ? null : Unwrap(SafeValue(property));
    }

    // Per cell from a cold start: optimized at once, as RowCells.Read.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static object? SafeValue(PSPropertyInfo property)
    {
        try { return property.Value; }
        catch (GetValueException) { return null; } // a getter that throws reads as a missing value
    }
}
