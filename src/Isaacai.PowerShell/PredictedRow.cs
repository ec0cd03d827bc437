using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;

namespace Isaacai.PowerShell;

/// <summary>
/// A row as Invoke-IsaacPredict gives it back: the input row's properties, in order, then Prediction and, for
/// classes, Probability and Probabilities. PowerShell sees them as the object's properties through
/// <see cref="PredictedRowAdapter"/> (registered in Isaacai.Types.ps1xml), so display, Format-Table, Export-Csv
/// and member access treat it as a PSCustomObject. Adding a note property costs a PSObject microseconds under a
/// lock; a row of a dozen of them cost more than the prediction itself.
/// </summary>
public sealed class PredictedRow
{
    private readonly string[] _names;
    private readonly object?[] _values;

    internal PredictedRow(string[] names, object?[] values)
    {
        _names = names;
        _values = values;
    }

    /// <summary>The row's cells, then the prediction's; a cell with a prediction's name is replaced, keeping its place.</summary>
    internal static PredictedRow Of(IReadOnlyList<KeyValuePair<string, object?>> cells, IReadOnlyList<(string Name, object? Value)> prediction)
    {
        var names = new List<string>(cells.Count + prediction.Count);
        var values = new List<object?>(cells.Count + prediction.Count);
        foreach (var (name, value) in cells) { names.Add(name); values.Add(value); }
        foreach (var (name, value) in prediction)
        {
            int at = names.FindIndex(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
            if (at >= 0) values[at] = value;
            else { names.Add(name); values.Add(value); }
        }
        return new PredictedRow([.. names], [.. values]);
    }

    internal int IndexOf(string name)
    {
        for (int i = 0; i < _names.Length; i++)
            if (string.Equals(_names[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    internal int Count => _names.Length;
    internal string NameAt(int index) => _names[index];
    internal object? this[int index] { get => _values[index]; set => _values[index] = value; }

    /// <summary>As PowerShell writes a PSCustomObject in a string: @{a=1; b=x}.</summary>
    public override string ToString() =>
        "@{" + string.Join("; ", _names.Select((n, i) => $"{n}={Convert.ToString(_values[i], CultureInfo.InvariantCulture)}")) + "}";
}

/// <summary>Shows a <see cref="PredictedRow"/>'s cells to PowerShell as properties, settable as a PSCustomObject's are.</summary>
public sealed class PredictedRowAdapter : PSPropertyAdapter
{
    public override Collection<PSAdaptedProperty> GetProperties(object baseObject)
    {
        var row = (PredictedRow)baseObject;
        var properties = new Collection<PSAdaptedProperty>();
        for (int i = 0; i < row.Count; i++) properties.Add(new PSAdaptedProperty(row.NameAt(i), i));
        return properties;
    }

    public override PSAdaptedProperty? GetProperty(object baseObject, string propertyName)
    {
        var row = (PredictedRow)baseObject;
        int at = row.IndexOf(propertyName);
        return at < 0 ? null : new PSAdaptedProperty(row.NameAt(at), at);
    }

    public override bool IsGettable(PSAdaptedProperty adaptedProperty) => true;

    public override bool IsSettable(PSAdaptedProperty adaptedProperty) => true;

    public override object? GetPropertyValue(PSAdaptedProperty adaptedProperty) => ((PredictedRow)adaptedProperty.BaseObject)[(int)adaptedProperty.Tag];

    public override void SetPropertyValue(PSAdaptedProperty adaptedProperty, object value) =>
        ((PredictedRow)adaptedProperty.BaseObject)[(int)adaptedProperty.Tag] = value;

    public override string GetPropertyTypeName(PSAdaptedProperty adaptedProperty) =>
        (GetPropertyValue(adaptedProperty)?.GetType() ?? typeof(object)).FullName!;
}
