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

    /// <param name="names">Shared by the rows of one shape; never changed.</param>
    /// <param name="values">This row's, one per name.</param>
    internal PredictedRow(string[] names, object?[] values)
    {
        _names = names;
        _values = values;
    }

    /// <summary>
    /// The names of a predicted row: the input row's, then the prediction's, a cell with a prediction's name being
    /// replaced, keeping its place; and where each of the prediction's cells goes. Rows of one shape share them.
    /// </summary>
    internal static (string[] Names, int[] Slots) Layout(IReadOnlyList<string> cells, IReadOnlyList<string> prediction)
    {
        var names = new List<string>(cells.Count + prediction.Count);
        names.AddRange(cells);
        var slots = new int[prediction.Count];
        for (int p = 0; p < prediction.Count; p++)
        {
            slots[p] = names.FindIndex(n => string.Equals(n, prediction[p], StringComparison.OrdinalIgnoreCase));
            if (slots[p] < 0)
            {
                slots[p] = names.Count;
                names.Add(prediction[p]);
            }
        }
        return ([.. names], slots);
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
