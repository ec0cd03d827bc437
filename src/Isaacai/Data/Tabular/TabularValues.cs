using System.Globalization;
using System.Runtime.CompilerServices;

namespace Isaacai.Data.Tabular;

/// <summary>How a raw cell is read: what counts as missing, as a number, or as a category's text.</summary>
public static class TabularValues
{
    /// <summary>Texts that stand for a missing value (besides null and blanks), as R and pandas write them.</summary>
    public static readonly IReadOnlyList<string> MissingTexts = ["NA", "N/A", "NaN"];

    private static readonly int LongestMissingText = MissingTexts.Max(m => m.Length);

    // Per row or cell from a cold start: optimized at once, not tiered up partway through (the objects path 20% faster).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool IsMissing(object? value) => value switch
    {
        null or DBNull => true,
        string s => IsMissingText(s),
        double d => double.IsNaN(d),
        float f => float.IsNaN(f),
        _ => false,
    };

    /// <summary>Whether text stands for a missing value: blank, or one of <see cref="MissingTexts"/> (ignoring case and surrounding blanks).</summary>
    // Per row or cell from a cold start: optimized at once, not tiered up partway through (the objects path 20% faster).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool IsMissingText(ReadOnlySpan<char> text)
    {
        var trimmed = text.Trim();
        if (trimmed.IsEmpty) return true;
        if (trimmed.Length > LongestMissingText) return false; // the common case, a value
        foreach (var missing in MissingTexts)
            if (trimmed.Equals(missing, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>A finite number, from a numeric type or from text in the invariant culture (<c>1.5</c>, <c>-2e3</c>), as Import-Csv gives them.</summary>
    // Per row or cell from a cold start: optimized at once, not tiered up partway through (the objects path 20% faster).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryNumber(object? value, out double number)
    {
        switch (value)
        {
            case double d: number = d; return double.IsFinite(d);
            case float f: number = f; return float.IsFinite(f);
            case int or long or short or sbyte or byte or uint or ulong or ushort or decimal:
                number = Convert.ToDouble(value, CultureInfo.InvariantCulture); return true;
            case string s: return TryParseNumber(s, out number);
            default: number = 0; return false;
        }
    }

    /// <summary>A finite number from text in the invariant culture, as <see cref="TryNumber(object, out double)"/> reads a string.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool TryParseNumber(ReadOnlySpan<char> text, out double number)
    {
        if (TryPlainDecimal(text, out long whole, out int decimals, out bool negative))
        {
            number = ScaledValue(negative ? -whole : whole, decimals, negative);
            return true;
        }
        return double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out number) && double.IsFinite(number);
    }

    internal static readonly double[] PowersOfTen = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

    /// <summary>
    /// <paramref name="whole"/> / 10^<paramref name="decimals"/>: both are exact doubles (|whole| below 2^53, 10^15 at
    /// most), so the one division rounds the exact value once, to the double that double.Parse gives for the same
    /// digits (Clinger's fast path). A negative zero stays negative, as double.Parse reads "-0".
    /// </summary>
    private static double ScaledValue(long whole, int decimals, bool negative)
    {
        double value = whole / PowersOfTen[decimals];
        return negative && whole == 0 ? -value : value;
    }

    /// <summary>
    /// The common case of a number's text, read without double.TryParse: an optional minus, digits, and optionally a
    /// point and more digits, 15 digits at most; its digits as a whole number and how many follow the point.
    /// Anything else (a plus, blanks, an exponent, more digits) is left to double.TryParse.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool TryPlainDecimal(ReadOnlySpan<char> text, out long whole, out int decimals, out bool negative)
    {
        whole = 0;
        decimals = 0;
        negative = text.Length > 0 && text[0] == '-';
        int start = negative ? 1 : 0, digits = 0, point = -1;
        for (int at = start; at < text.Length; at++)
        {
            uint digit = (uint)(text[at] - '0');
            if (digit <= 9) { whole = whole * 10 + digit; digits++; }
            else if (text[at] == '.' && point < 0 && at > start && at < text.Length - 1) point = at;
            else return false;
        }
        if (digits is 0 or > 15) return false;
        if (point >= 0) decimals = text.Length - 1 - point;
        return true;
    }

    /// <summary>
    /// What a present value reads as, for deciding a column's kind: a finite number; a number that is not finite
    /// (<c>Infinity</c>, <c>1e400</c>, an infinite double), which is never taken as a number; a number written
    /// with a decimal comma (<c>3,5</c>), which the invariant culture does not read; or text.
    /// </summary>
    public static CellReading Read(object? value, out double number)
    {
        if (TryNumber(value, out number)) return CellReading.Number;
        switch (value)
        {
            case double or float: return CellReading.NotFinite; // NaN is missing, so this is an infinity
            case string s:
                var trimmed = s.Trim();
                if (double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return CellReading.NotFinite;
                return IsDecimalComma(trimmed) ? CellReading.DecimalComma : CellReading.Text;
            default: return CellReading.Text;
        }
    }

    /// <summary><c>3,5</c> or <c>-0,25</c>: digits, one comma, digits, as de-DE or fr-FR write a fraction.</summary>
    private static bool IsDecimalComma(string text)
    {
        int comma = text.IndexOf(',');
        if (comma < 0 || comma != text.LastIndexOf(',')) return false;
        var whole = text.AsSpan(0, comma).TrimStart("+-");
        var fraction = text.AsSpan(comma + 1);
        return whole.Length > 0 && fraction.Length > 0 && !whole.ContainsAnyExceptInRange('0', '9') && !fraction.ContainsAnyExceptInRange('0', '9');
    }

    /// <summary>A category's name: the value's text in the invariant culture, trimmed.</summary>
    public static string Text(object? value) => (Convert.ToString(value, CultureInfo.InvariantCulture) ?? "").Trim();
}

/// <summary>How a present value reads: see <see cref="TabularValues.Read"/>.</summary>
public enum CellReading { Number, NotFinite, DecimalComma, Text }

/// <summary>Bad tabular input: says which row and column, and what would be valid.</summary>
public sealed class TabularDataException(string message, string? column = null, long? row = null) : Exception(message)
{
    /// <summary>The column at fault, where there is one.</summary>
    public string? Column { get; } = column;

    /// <summary>The row at fault, counting the data rows from 1, where there is one.</summary>
    public long? Row { get; } = row;
}
