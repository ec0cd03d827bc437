using System.Collections;
using System.Management.Automation;

namespace Isaacai.PowerShell;

/// <summary>Reads the properties of whatever arrives on the pipeline: objects of any kind, or hashtables.</summary>
internal static class PSValues
{
    public static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;

    /// <summary>An object's properties (or a dictionary's entries) as name → value, in their order.</summary>
    public static IReadOnlyDictionary<string, object?> Properties(PSObject item)
    {
        var result = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
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
            foreach (DictionaryEntry entry in dictionary)
                if (string.Equals(entry.Key?.ToString(), name, StringComparison.OrdinalIgnoreCase)) { found = true; return Unwrap(entry.Value); }
            found = false;
            return null;
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
