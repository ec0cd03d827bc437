namespace Isaacai.Data.Tabular;

/// <summary>
/// What a function of a cell gives for each row of one column. Where the table holds the column as
/// <see cref="TextCodes"/> (text read from a file or gathered from objects), it is worked out once per distinct text, not once per row.
/// </summary>
internal sealed class ColumnCells<T>
{
    private readonly TabularTable _table;
    private readonly int _column;
    private readonly Func<object?, T> _of;
    private readonly TextCodes? _codes;
    private readonly T[] _known;
    private readonly bool[] _done;

    public ColumnCells(TabularTable table, int column, Func<object?, T> of)
    {
        (_table, _column, _of) = (table, column, of);
        _codes = table.Codes(column);
        _known = new T[_codes?.Texts.Count ?? 0];
        _done = new bool[_known.Length];
    }

    public T this[int row]
    {
        get
        {
            if (_codes is null) return _of(_table[row, _column]);
            int code = _codes.Codes[row];
            if (!_done[code]) (_known[code], _done[code]) = (_of(_codes.Texts[code]), true);
            return _known[code];
        }
    }

    /// <summary>
    /// The values of the present cells of <paramref name="rows"/>: each distinct text's once where the column is
    /// held as codes, every row's otherwise (so a caller that wants them distinct still takes Distinct).
    /// </summary>
    public IEnumerable<T> OfPresent(IEnumerable<int> rows)
    {
        var seen = new bool[_known.Length];
        foreach (var r in rows)
        {
            if (_table.IsMissing(r, _column)) continue;
            if (_codes is null) yield return this[r];
            else if (!seen[_codes.Codes[r]])
            {
                seen[_codes.Codes[r]] = true;
                yield return this[r];
            }
        }
    }
}
