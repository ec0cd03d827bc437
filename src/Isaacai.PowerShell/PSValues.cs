using System.Collections;
using System.Management.Automation;
using Isaacai.Data.Tabular;

namespace Isaacai.PowerShell;

/// <summary>Reads the properties of whatever arrives on the pipeline: objects of any kind, or hashtables.</summary>
internal static class PSValues
{
    public static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;

    /// <summary>
    /// An object's properties (or a dictionary's entries) as name → value, in their order. Names are kept as
    /// spelt: a case-sensitive dictionary's <c>Age</c> and <c>age</c> both come through, for the caller to refuse.
    /// </summary>
    public static IReadOnlyDictionary<string, object?> Properties(PSObject item)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (item.BaseObject is IDictionary dictionary)
        {
            foreach (DictionaryEntry entry in dictionary) result[entry.Key?.ToString() ?? ""] = Unwrap(entry.Value);
            return result;
        }
        foreach (var property in item.Properties)
            if (property.IsGettable) result[property.Name] = Unwrap(SafeValue(property));
        return result;
    }

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
