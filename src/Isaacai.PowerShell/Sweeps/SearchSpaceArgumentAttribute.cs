using System.Collections;
using System.Management.Automation;
using Isaacai.Sweeps;

namespace Isaacai.PowerShell.Sweeps;

/// <summary>
/// Reads a search space from a hashtable: a list is a choice (<c>32, 64, 128</c>), a single value is fixed,
/// <c>@{ Uniform = 0, 0.5 }</c>, <c>@{ LogUniform = 1e-4, 1e-1 }</c> and <c>@{ Integer = 1, 4 }</c> are ranges
/// (<c>Steps = n</c> beside a real range gives a grid n points), and a <see cref="ParameterRange"/> is taken as it is.
/// </summary>
public sealed class SearchSpaceArgumentAttribute : ArgumentTransformationAttribute
{
    private static readonly string[] RangeKinds = ["Uniform", "LogUniform", "Integer"];

    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        if (PSValues.Unwrap(inputData) is SearchSpace space) return space;
        if (PSValues.Unwrap(inputData) is not IDictionary dictionary)
            throw new ArgumentTransformationMetadataException("A search space is a hashtable of parameter names to values: @{ LearningRate = @{ LogUniform = 1e-4, 1e-1 }; Hidden = 32, 64, 128 }.");
        try
        {
            return new SearchSpace(dictionary.Keys.Cast<object>().Select(key =>
                KeyValuePair.Create(key?.ToString() ?? "", Range(key?.ToString() ?? "", dictionary[key!]))));
        }
        catch (ArgumentException e) { throw new ArgumentTransformationMetadataException(e.Message, e); }
    }

    private static ParameterRange Range(string name, object? value)
    {
        value = PSValues.Unwrap(value);
        switch (value)
        {
            case ParameterRange range: return range;
            case IDictionary spec: return RangeOf(name, spec);
            case string or null: return new ChoiceRange([Choice(name, value)]);
            case IEnumerable list: return new ChoiceRange(list.Cast<object?>().Select(v => Choice(name, PSValues.Unwrap(v))));
            default: return new ChoiceRange([Choice(name, value)]);
        }
    }

    private static object Choice(string name, object? value) => value switch
    {
        string or bool or int or long or double => value,
        byte or sbyte or short or ushort => Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture),
        float or decimal => Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"Parameter '{name}': a choice holds numbers, strings or booleans; {(value is null ? "$null" : $"{value} ({value.GetType().FullName})")} is none of them."),
    };

    private static ParameterRange RangeOf(string name, IDictionary spec)
    {
        var keys = spec.Keys.Cast<object>().Select(k => k.ToString()!).ToArray();
        var kinds = keys.Where(k => RangeKinds.Contains(k, StringComparer.OrdinalIgnoreCase)).ToArray();
        var unknown = keys.Where(k => !RangeKinds.Contains(k, StringComparer.OrdinalIgnoreCase) && !k.Equals("Steps", StringComparison.OrdinalIgnoreCase)).ToArray();
        if (kinds.Length != 1 || unknown.Length > 0)
            throw new ArgumentException($"Parameter '{name}': a range is a hashtable with one of Uniform, LogUniform or Integer (two bounds) and, for a grid, Steps; it has {string.Join(", ", keys)}.");
        var bounds = (PSValues.Unwrap(spec[kinds[0]]) as IEnumerable)?.Cast<object?>().Select(PSValues.Unwrap).ToArray();
        if (bounds is not { Length: 2 } || bounds.Any(b => b is null or string))
            throw new ArgumentException($"Parameter '{name}': {kinds[0]} takes two numbers, low and high (@{{ {kinds[0]} = 0, 1 }}).");
        int steps = keys.FirstOrDefault(k => k.Equals("Steps", StringComparison.OrdinalIgnoreCase)) is { } stepsKey
            ? LanguagePrimitives.ConvertTo<int>(spec[stepsKey]) : 0;
        try
        {
            return kinds[0].ToLowerInvariant() switch
            {
                "integer" => steps == 0 ? new IntegerRange(LanguagePrimitives.ConvertTo<int>(bounds[0]), LanguagePrimitives.ConvertTo<int>(bounds[1]))
                    : throw new ArgumentException("an integer range's grid visits every integer; it takes no Steps"),
                var kind => new RealRange(LanguagePrimitives.ConvertTo<double>(bounds[0]), LanguagePrimitives.ConvertTo<double>(bounds[1]), log: kind == "loguniform", steps),
            };
        }
        catch (Exception e) when (e is ArgumentException or PSInvalidCastException)
        {
            throw new ArgumentException($"Parameter '{name}': {e.Message}", e);
        }
    }
}
