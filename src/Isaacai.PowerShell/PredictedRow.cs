using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;

namespace Isaacai.PowerShell;

/// <summary>
/// Cells by name that PowerShell sees as an object's properties, through <see cref="NamedCellsAdapter"/> (registered
/// for each kind in Isaacai.Types.ps1xml): display, Format-Table, Export-Csv and member access treat them as a
/// PSCustomObject's. The names are shared by every object of one shape. Adding a note property costs a PSObject
/// microseconds under a lock; a row of a dozen of them cost more than the prediction itself.
/// </summary>
public abstract class NamedCells
{
    private protected NamedCells(string[] names) => Names = names;

    /// <summary>Shared by every object of one shape; never changed.</summary>
    private protected string[] Names { get; }

    internal int Count => Names.Length;
    internal string NameAt(int index) => Names[index];

    internal int IndexOf(string name) => PSValues.IndexOfName(Names, name);

    internal abstract object? this[int index] { get; set; }

    /// <summary>As PowerShell writes a PSCustomObject in a string: @{a=1; b=x}.</summary>
    public override string ToString() =>
        "@{" + string.Join("; ", Names.Select((n, i) => $"{n}={Convert.ToString(this[i], CultureInfo.InvariantCulture)}")) + "}";
}

/// <summary>
/// A row as Invoke-IsaacPredict gives it back: the input row's properties, in order, then Prediction and, for
/// classes, Probability and Probabilities (a <see cref="ClassProbabilities"/>).
/// </summary>
public sealed class PredictedRow : NamedCells, ICloneable
{
    private readonly object?[] _values;

    /// <param name="names">Shared by the rows of one shape; never changed.</param>
    /// <param name="values">This row's, one per name.</param>
    internal PredictedRow(string[] names, object?[] values) : base(names) => _values = values;

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
            slots[p] = PSValues.IndexOfName(names, prediction[p]);
            if (slots[p] < 0)
            {
                slots[p] = names.Count;
                names.Add(prediction[p]);
            }
        }
        return ([.. names], slots);
    }

    internal override object? this[int index] { get => _values[index]; set => _values[index] = value; }

    /// <summary>A row of its own (PSObject.Copy() calls this), its cells the same values.</summary>
    public object Clone() => new PredictedRow(Names, (object?[])_values.Clone());
}

/// <summary>
/// A predicted row's Probabilities: one property per class, in class order, read from the batch's probabilities
/// (no number boxed, no object per class, until one is read). Read-only: they are what the model gave. A row kept
/// keeps its batch's probabilities alive (some thousands of rows' worth), so with many classes a row takes a copy of its own.
/// </summary>
public sealed class ClassProbabilities : NamedCells
{
    private readonly ReadOnlyMemory<double> _probabilities;

    /// <param name="classes">The class names, shared by every row.</param>
    /// <param name="probabilities">This row's, one per class.</param>
    internal ClassProbabilities(string[] classes, ReadOnlyMemory<double> probabilities) : base(classes) => _probabilities = probabilities;

    internal override object? this[int index]
    {
        get => _probabilities.Span[index];
        set => throw new SetValueException("A prediction's class probabilities are read-only: they are what the model gave. To change them, copy them first: $p = $row.Probabilities | Select-Object *.");
    }
}

/// <summary>Shows <see cref="NamedCells"/> to PowerShell as properties.</summary>
public sealed class NamedCellsAdapter : PSPropertyAdapter
{
    public override Collection<PSAdaptedProperty> GetProperties(object baseObject)
    {
        var cells = (NamedCells)baseObject;
        var properties = new Collection<PSAdaptedProperty>();
        for (int i = 0; i < cells.Count; i++) properties.Add(new PSAdaptedProperty(cells.NameAt(i), i));
        return properties;
    }

    public override PSAdaptedProperty? GetProperty(object baseObject, string propertyName)
    {
        var cells = (NamedCells)baseObject;
        int at = cells.IndexOf(propertyName);
        return at < 0 ? null : new PSAdaptedProperty(cells.NameAt(at), at);
    }

    public override bool IsGettable(PSAdaptedProperty adaptedProperty) => true;

    // Settable, so that setting a read-only cell says why (the setter's SetValueException, which PowerShell passes on), not only that the adapter cannot.
    public override bool IsSettable(PSAdaptedProperty adaptedProperty) => true;

    /// <summary>
    /// A cell's value; nested cells (Probabilities) wrapped, as they are read, in a PSObject, through which ConvertTo-Json
    /// and other serializers see their properties (a bare object shows them only its public CLR members: none).
    /// </summary>
    public override object? GetPropertyValue(PSAdaptedProperty adaptedProperty) =>
        ((NamedCells)adaptedProperty.BaseObject)[(int)adaptedProperty.Tag] is var value && value is NamedCells ? new PSObject(value) : value;

    public override void SetPropertyValue(PSAdaptedProperty adaptedProperty, object value) =>
        ((NamedCells)adaptedProperty.BaseObject)[(int)adaptedProperty.Tag] = value;

    public override string GetPropertyTypeName(PSAdaptedProperty adaptedProperty) =>
        (((NamedCells)adaptedProperty.BaseObject)[(int)adaptedProperty.Tag]?.GetType() ?? typeof(object)).FullName!;
}
