using System.Management.Automation;
using Isaacai.Callbacks;
using Isaacai.Metrics;

namespace Isaacai.PowerShell.Commands;

/// <summary>New-IsaacCallback: one of the built-in callbacks by short name, with its settings.</summary>
[Cmdlet(VerbsCommon.New, "IsaacCallback")]
[OutputType(typeof(Callback))]
public sealed class NewIsaacCallbackCommand : CallbackCommandBase
{
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
    public string? Device { get; set; }

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
                _ => (Callback)Activator.CreateInstance(type)!,
            };
            WriteObject(WithOrderAndName(callback));
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidCallbackArgument", ErrorCategory.InvalidArgument, Type));
        }
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
        foreach (var (setting, owner) in new[] { (nameof(Metric), typeof(MetricsCB)), (nameof(Momentum), typeof(MomentumTrainCB)), (nameof(Device), typeof(DeviceCB)) })
            if (MyInvocation.BoundParameters.ContainsKey(setting) && type != owner)
                throw new ArgumentException($"-{setting} applies only to the {CallbackTypes.ShortName(owner)} callback, not to {CallbackTypes.ShortName(type)}.");
    }
}
