using System.Collections;
using System.Management.Automation;
using System.Reflection;
using Isaacai.Data.Tabular;

namespace Isaacai.PowerShell;

/// <summary>Reads the properties of whatever arrives on the pipeline: objects of any kind, or hashtables.</summary>
internal static class PSValues
{
    public static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;

    /// <summary>
    /// The rows in an array or list given as one value (to -InputObject, say); null for a single row. A dictionary
    /// or a string is one row, not a collection of them.
    /// </summary>
    public static IEnumerable<PSObject>? Rows(PSObject value)
    {
        if (value.BaseObject is IDictionary or string || LanguagePrimitives.GetEnumerable(value.BaseObject) is not { } items) return null;
        return items.Cast<object?>().Where(item => item is not null).Select(PSObject.AsPSObject!);
    }

    /// <summary>
    /// An object's properties (or a dictionary's entries) as name → value, in their order. Names are kept as
    /// spelt: a case-sensitive dictionary's <c>Age</c> and <c>age</c> both come through, for the caller to refuse.
    /// </summary>
    public static IReadOnlyDictionary<string, object?> Properties(PSObject item)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in Cells(item)) result[name] = value;
        return result;
    }

    /// <summary>
    /// An object's properties (or a dictionary's entries) as name → value pairs, in their order, names as spelt.
    /// Objects from Import-Csv and ConvertFrom-Json (PSCustomObject) are read from their own note properties:
    /// PowerShell's Properties collection gathers every member source again for each object, which costs tens of
    /// microseconds a row, ten times the rest of the work.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, object?>> Cells(PSObject item)
    {
        if (item.BaseObject is IDictionary dictionary)
        {
            foreach (DictionaryEntry entry in dictionary) yield return new(entry.Key?.ToString() ?? "", Unwrap(entry.Value));
            yield break;
        }
        if (item.BaseObject is PSCustomObject && InstanceMembers is { } ownMembers && ownMembers(item) is IEnumerable members)
        {
            foreach (var member in members)
                if (member is PSPropertyInfo { IsGettable: true } own && !ReservedMembers.Contains(own.Name)) yield return new(own.Name, Unwrap(SafeValue(own)));
            yield break;
        }
        foreach (var property in item.Properties)
            if (property.IsGettable) yield return new(property.Name, Unwrap(SafeValue(property)));
    }

    /// <summary>Members PowerShell adds to every object once a script touches them (pstypenames, say), which are never its data.</summary>
    private static readonly HashSet<string> ReservedMembers = new(["psbase", "psadapted", "psextended", "psobject", "pstypenames"], StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// PSObject's own members (the note properties Add-Member, Import-Csv and ConvertFrom-Json give it), which
    /// PowerShell keeps internal; null where a PowerShell version has no such member, and Properties serves.
    /// </summary>
    private static readonly Func<PSObject, object?>? InstanceMembers = typeof(PSObject)
        .GetProperty("InstanceMembers", BindingFlags.NonPublic | BindingFlags.Instance)?.GetGetMethod(nonPublic: true) is { } getter
        && typeof(IEnumerable).IsAssignableFrom(getter.ReturnType)
            ? getter.CreateDelegate<Func<PSObject, object?>>()
            : null;

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
                if (key is not null) throw new TabularDataException($"The keys '{key}' and '{entryKey}' differ only in case; '{name}' is matched ignoring case, so it is not clear which is meant. Rename one of them.", name);
                (key, value) = (entryKey, entry.Value);
            }
            found = key is not null;
            return Unwrap(value);
        }
        var property = item.Properties[name];
        found = property is not null;
        return property is null ? null : Unwrap(SafeValue(property));
    }

    private static object? SafeValue(PSPropertyInfo property)
    {
        try { return property.Value; }
        catch (GetValueException) { return null; } // a getter that throws reads as a missing value
    }
}
