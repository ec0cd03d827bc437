using System.Globalization;

namespace Isaacai.Data.Tabular;

/// <summary>The parts a date column is expanded into, as fastai's <c>add_datepart</c> does.</summary>
public enum DatePart { Year, Month, Day, DayOfWeek, DayOfYear, Elapsed }

/// <summary>One part of a date column as fitted: standardised with the train split's mean and std.</summary>
public sealed record DatePartScale(DatePart Part, double Mean, double Std);

/// <summary>
/// How a cell is read as a date: a <see cref="DateTime"/>, <see cref="DateTimeOffset"/> or <see cref="DateOnly"/>,
/// or text in ISO 8601 (<c>2021-03-04</c>, <c>2021-03-04T10:30:00Z</c>) or with an English month name
/// (<c>Jun 12 1998</c>, <c>12 June 1998</c>), which no culture reads otherwise. Numeric dates such as
/// <c>03/04/2021</c> are not read: their day and month order depends on the culture.
/// </summary>
public static class TabularDates
{
    /// <summary>Every part, in the order a date column's inputs take.</summary>
    public static IReadOnlyList<DatePart> Parts { get; } = Enum.GetValues<DatePart>();

    private static readonly string[] Formats =
    [
        "yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mm:ssK",
        "MMM d yyyy", "MMM d, yyyy", "MMMM d yyyy", "MMMM d, yyyy", "d MMM yyyy", "d MMMM yyyy",
    ];

    /// <summary>
    /// The value as a date and time. Text with an offset is taken to UTC; text without one, and a
    /// <see cref="DateTime"/>, as the clock reads; a <see cref="DateTimeOffset"/> to UTC, as its text would be.
    /// </summary>
    public static bool TryDate(object? value, out DateTime date)
    {
        switch (value)
        {
            case DateTime d: date = DateTime.SpecifyKind(d, DateTimeKind.Unspecified); return true;
            case DateTimeOffset o: date = DateTime.SpecifyKind(o.UtcDateTime, DateTimeKind.Unspecified); return true;
            case DateOnly d: date = d.ToDateTime(TimeOnly.MinValue); return true;
            case string s:
                var text = s.Trim();
                // A quick refusal before the formats: a date has a digit and is short; most text in a category column is neither.
                if (text.Length is < 8 or > 40 || !text.AsSpan().ContainsAnyInRange('0', '9')) break;
                if (DateTime.TryParseExact(text, Formats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out date))
                {
                    date = DateTime.SpecifyKind(date, DateTimeKind.Unspecified);
                    return true;
                }
                break;
        }
        date = default;
        return false;
    }

    /// <summary>One part of a date: calendar numbers, Monday 0 to Sunday 6 (as pandas), and days since 1970-01-01 with the time as a fraction.</summary>
    public static double PartOf(DateTime date, DatePart part) => part switch
    {
        DatePart.Year => date.Year,
        DatePart.Month => date.Month,
        DatePart.Day => date.Day,
        DatePart.DayOfWeek => ((int)date.DayOfWeek + 6) % 7,
        DatePart.DayOfYear => date.DayOfYear,
        DatePart.Elapsed => (date - DateTime.UnixEpoch).TotalDays,
        _ => throw new ArgumentOutOfRangeException(nameof(part), part, null),
    };

    /// <summary>A date as text that <see cref="TryDate"/> reads back to the same instant (a fill value, say).</summary>
    public static string Text(DateTime date) => date.ToString(date.TimeOfDay == TimeSpan.Zero ? "yyyy-MM-dd" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
}
