using System.Management.Automation;
using System.Reflection;
using Isaacai.Callbacks;
using Isaacai.Metrics;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// New-IsaacCallback: one of the built-in callbacks by short name. Metrics, Momentum and Device take the
/// settings below; every other callback's constructor parameters become parameters of this command
/// (<c>New-IsaacCallback EarlyStopping -Patience 3</c>), with Tab completion once the type is typed.
/// </summary>
[Cmdlet(VerbsCommon.New, "IsaacCallback")]
[OutputType(typeof(Callback))]
public sealed class NewIsaacCallbackCommand : CallbackCommandBase, IDynamicParameters
{
    /// <summary>The callbacks whose settings are this command's own parameters, not their constructors'.</summary>
    private static readonly Dictionary<string, Type> StaticSettings = new()
    {
        [nameof(Metric)] = typeof(MetricsCB),
        [nameof(Momentum)] = typeof(MomentumTrainCB),
        [nameof(Device)] = typeof(DeviceCB),
    };

    private RuntimeDefinedParameterDictionary? _settings;

    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(CallbackTypeCompleter))]
    public string Type { get; set; } = "";

    [Parameter]
    [ArgumentCompleter(typeof(MetricNameCompleter))]
    public string[] Metric { get; set; } = [];

    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double Momentum { get; set; } = 0.85;

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DeviceNameCompleter))]
    public string? Device { get; set; }

    public object? GetDynamicParameters()
    {
        if (!CallbackTypes.TryResolve(Type, out var type) || StaticSettings.ContainsValue(type) || CallbackTypes.SettingsConstructor(type) is not { } constructor)
            return null;
        var taken = typeof(NewIsaacCallbackCommand).GetProperties()
            .Where(p => p.IsDefined(typeof(ParameterAttribute), inherit: true)).Select(p => p.Name)
            .Concat(CommonParameters).Concat(OptionalCommonParameters).ToList();
        _settings = ConstructorParameters.ToDynamic(constructor.GetParameters(), type, taken);
        return _settings;
    }

    protected override void ProcessRecord()
    {
        try
        {
            var type = CallbackTypes.Resolve(Type);
            RejectSettingsNotFor(type);
            Callback callback = type.Name switch
            {
                nameof(MetricsCB) => new MetricsCB(Metric.Select(m => KeyValuePair.Create(m, MetricNames.Create(m)))),
                nameof(MomentumTrainCB) => new MomentumTrainCB(Momentum),
                nameof(DeviceCB) => new DeviceCB(Device is null ? null : ParseDevice(Device)),
                _ => Construct(type),
            };
            WriteObject(WithOrderAndName(callback));
        }
        catch (NotSupportedException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "CallbackNotAvailable", ErrorCategory.NotImplemented, Type));
        }
        catch (Exception e) when (e is ArgumentException or PSInvalidCastException or TargetInvocationException { InnerException: ArgumentException })
        {
            var cause = e is TargetInvocationException { InnerException: { } inner } ? inner : e;
            ThrowTerminatingError(new ErrorRecord(cause, "InvalidCallbackArgument", ErrorCategory.InvalidArgument, Type));
        }
    }

    private Callback Construct(Type type)
    {
        var constructor = CallbackTypes.SettingsConstructor(type)
            ?? throw new ArgumentException($"{CallbackTypes.ShortName(type)} cannot be made from the command line; make it in C# or with [{type.FullName}]::new(...).");
        return (Callback)constructor.Invoke(constructor.GetParameters().Select(p => ConstructorParameters.Value(p, _settings, this)).ToArray());
    }

    /// <summary>TorchSharp's own error names only the upper-cased value ("Requested value 'BANANA' was not found").</summary>
    private static TorchSharp.torch.Device ParseDevice(string name)
    {
        try { return new TorchSharp.torch.Device(name); }
        catch (ArgumentException e)
        {
            var available = TorchSharp.torch.cuda.is_available() ? $"cpu, cuda, cuda:0 to cuda:{TorchSharp.torch.cuda.device_count() - 1}" : "cpu (no CUDA device here)";
            throw new ArgumentException($"'{name}' is not a device. A device is a type (cpu, cuda, mps, ...) with an optional ':index'; available here: {available}.", nameof(Device), e);
        }
    }

    private void RejectSettingsNotFor(Type type)
    {
        foreach (var (setting, owner) in StaticSettings)
            if (MyInvocation.BoundParameters.ContainsKey(setting) && type != owner)
                throw new ArgumentException($"-{setting} applies only to the {CallbackTypes.ShortName(owner)} callback, not to {CallbackTypes.ShortName(type)}.");
    }
}
