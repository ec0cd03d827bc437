using System.Globalization;
using System.Management.Automation;
using System.Reflection;
using Isaacai.Schedules;

namespace Isaacai.PowerShell;

/// <summary>
/// A constructor's parameters as a command's dynamic parameters, and back: how New-IsaacTrainer offers a
/// trainer subclass's own parameters and New-IsaacCallback a callback's settings. A bool becomes a
/// switch; a schedule function a scriptblock; a parameter named <c>path</c> or <c>logDir</c> is resolved
/// against the current PowerShell location; one named <c>monitor</c> completes epoch-record keys.
/// </summary>
public static class ConstructorParameters
{
    public static string Name(ParameterInfo parameter) => char.ToUpperInvariant(parameter.Name![0]) + parameter.Name[1..];

    /// <summary>Whether a command line can give a value for this parameter.</summary>
    public static bool CanBind(ParameterInfo parameter) =>
        !typeof(Delegate).IsAssignableFrom(parameter.ParameterType) || parameter.ParameterType == typeof(Func<ScheduleStep, double>);

    /// <summary>Mandatory where the constructor has no default; the default shows in help.</summary>
    public static RuntimeDefinedParameterDictionary ToDynamic(IEnumerable<ParameterInfo> parameters, Type owner, IReadOnlyCollection<string> taken)
    {
        var dictionary = new RuntimeDefinedParameterDictionary();
        foreach (var parameter in parameters)
        {
            var name = Name(parameter);
            if (taken.Contains(name, StringComparer.OrdinalIgnoreCase))
                throw new ArgumentException($"The type '{owner.FullName}' has a constructor parameter '{parameter.Name}' that clashes with the command's own -{name}; rename it.");
            var attributes = new System.Collections.ObjectModel.Collection<Attribute>
            {
                new ParameterAttribute
                {
                    Mandatory = !parameter.HasDefaultValue,
                    HelpMessage = $"Constructor parameter '{parameter.Name}' of {owner.FullName}" + (parameter.HasDefaultValue ? $" (default {parameter.DefaultValue})." : "."),
                },
            };
            if (parameter.HasDefaultValue && parameter.DefaultValue is not null) attributes.Add(new PSDefaultValueAttribute { Value = parameter.DefaultValue });
            if (parameter.Name == "monitor") attributes.Add(new ArgumentCompleterAttribute(typeof(RecordKeyCompleter)));
            dictionary.Add(name, new RuntimeDefinedParameter(name, CommandLineType(parameter.ParameterType), attributes));
        }
        return dictionary;
    }

    /// <summary>The constructor argument for <paramref name="parameter"/>: the bound value converted, or its default.</summary>
    public static object? Value(ParameterInfo parameter, RuntimeDefinedParameterDictionary? bound, PSCmdlet command)
    {
        if (bound?[Name(parameter)] is not { IsSet: true } set)
            return parameter.HasDefaultValue ? parameter.DefaultValue : throw new ArgumentException($"-{Name(parameter)} is required.");
        var value = set.Value is PSObject ps ? ps.BaseObject : set.Value;
        return value switch
        {
            SwitchParameter flag => flag.IsPresent,
            ScriptBlock script => ScriptSchedule.Of(script),
            string path when parameter.Name is "path" or "logDir" => command.GetUnresolvedProviderPathFromPSPath(path),
            _ => LanguagePrimitives.ConvertTo(value, parameter.ParameterType, CultureInfo.InvariantCulture),
        };
    }

    private static Type CommandLineType(Type type) =>
        type == typeof(bool) ? typeof(SwitchParameter)
        : type == typeof(Func<ScheduleStep, double>) ? typeof(ScriptBlock)
        : type;
}
