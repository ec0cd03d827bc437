namespace Isaacai.Data.Tabular;

/// <summary>
/// A column of text held as each row's index into the column's distinct texts, as a file reader holds text: a
/// category column of a million rows holds a few strings, and anything worked out from a cell (missing or not,
/// its number, its category) is worked out once per distinct text. A text may be null (a cell never read).
/// </summary>
internal sealed class TextCodes(int[] codes, IReadOnlyList<string?> texts)
{
    private readonly bool[] _missing = texts.Select(t => TabularValues.IsMissing(t)).ToArray();

    /// <summary>By row; may be longer than the table's rows.</summary>
    public int[] Codes { get; } = codes;

    public IReadOnlyList<string?> Texts { get; } = texts;

    public bool IsMissing(int row) => _missing[Codes[row]];
}

/// <summary>
/// A column's distinct texts as a reader meets them, each given the next code the first time it is seen (a category
/// column repeats a few values a million times); code 0 is null, a missing value or a cell never read. What a file
/// reader and a builder of objects' rows both hold text as, before it becomes <see cref="TextCodes"/>.
/// </summary>
internal sealed class DistinctTexts
{
    private readonly Dictionary<string, int> _codeOf = new(StringComparer.Ordinal);
    private readonly List<string?> _texts = [null];

    /// <summary>Every text so far, by code.</summary>
    public IReadOnlyList<string?> Texts => _texts;

    public string? this[int code] => _texts[code];

    public int CodeOf(string? text)
    {
        if (text is null) return 0;
        if (!_codeOf.TryGetValue(text, out int code)) code = Add(text);
        return code;
    }

    /// <summary>As <see cref="CodeOf(string?)"/>, making a string only for a text not seen before.</summary>
    public int CodeOf(ReadOnlySpan<char> text) =>
        _codeOf.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(text, out int code) ? code : Add(text.ToString());

    private int Add(string text)
    {
        int code = _texts.Count;
        _codeOf.Add(text, code);
        _texts.Add(text);
        return code;
    }
}
