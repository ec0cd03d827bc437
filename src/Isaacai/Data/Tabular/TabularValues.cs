using System.Globalization;

namespace Isaacai.Data.Tabular;

/// <summary>How a raw cell is read: what counts as missing, as a number, or as a category's text.</summary>
public static class TabularValues
{
    /// <summary>Texts that stand for a missing value (besides null and blanks), as R and pandas write them.</summary>
    public static readonly IReadOnlyList<string> MissingTexts = ["NA", "N/A", "NaN"];

    public static bool IsMissing(object? value) => value switch
    {
        null or DBNull => true,
        string s => string.IsNullOrWhiteSpace(s) || MissingTexts.Any(m => string.Equals(s.Trim(), m, StringComparison.OrdinalIgnoreCase)),
        double d => double.IsNaN(d),
        float f => float.IsNaN(f),
        _ => false,
    };

    /// <summary>A number, from a numeric type or from text in the invariant culture (<c>1.5</c>, <c>-2e3</c>), as Import-Csv gives them.</summary>
    public static bool TryNumber(object? value, out double number)
    {
        switch (value)
        {
            case double d: number = d; return double.IsFinite(d);
            case float f: number = f; return float.IsFinite(f);
            case int or long or short or sbyte or byte or uint or ulong or ushort or decimal:
                number = Convert.ToDouble(value, CultureInfo.InvariantCulture); return true;
            case string s:
                return double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out number) && double.IsFinite(number);
            default: number = 0; return false;
        }
    }

    /// <summary>A category's name: the value's text in the invariant culture, trimmed.</summary>
    public static string Text(object? value) => (Convert.ToString(value, CultureInfo.InvariantCulture) ?? "").Trim();
}

/// <summary>Bad tabular input: says which row and column, and what would be valid.</summary>
public sealed class TabularDataException(string message, string? column = null, long? row = null) : Exception(message)
{
    /// <summary>The column at fault, where there is one.</summary>
    public string? Column { get; } = column;

    /// <summary>The row at fault, counting the data rows from 1, where there is one.</summary>
    public long? Row { get; } = row;
}
