using System.Management.Automation;
using Isaacai.Data;
using static TorchSharp.torch;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// New-IsaacTrainer: builds a Trainer, or any subclass named by -Type, whose own constructor parameters
/// (beyond the Trainer's) become parameters of this command.
/// </summary>
[Cmdlet(VerbsCommon.New, "IsaacTrainer")]
[OutputType(typeof(Trainer))]
public sealed class NewIsaacTrainerCommand : PSCmdlet, IDynamicParameters
{
    private RuntimeDefinedParameterDictionary? _typeParameters;

    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(TrainerTypeCompleter))]
    public string Type { get; set; } = nameof(Trainer);

    [Parameter(Mandatory = true)]
    public DataLoaders DataLoaders { get; set; } = null!;

    [Parameter(Mandatory = true)]
    [ArgumentCompleter(typeof(LossNameCompleter))]
    public object LossFunction { get; set; } = null!;

    [Parameter(Mandatory = true)]
    [ArgumentCompleter(typeof(OptimizerNameCompleter))]
    public object Optimizer { get; set; } = null!;

    [Parameter(Mandatory = true)]
    public nn.Module<Tensor, Tensor> Model { get; set; } = null!;

    [Parameter]
    public object[] Callback { get; set; } = [];

    [Parameter]
    [ValidateRange(double.Epsilon, double.MaxValue)]
    public double LearningRate { get; set; } = 1e-3;

    public object? GetDynamicParameters()
    {
        if (Type == nameof(Trainer)) return null;
        var taken = typeof(NewIsaacTrainerCommand).GetProperties()
            .Where(p => p.IsDefined(typeof(ParameterAttribute), inherit: true)).Select(p => p.Name)
            .Concat(CommonParameters).Concat(OptionalCommonParameters).ToList();
        _typeParameters = TrainerTypes.DynamicParameters(TrainerTypes.Resolve(Type), taken);
        return _typeParameters;
    }

    protected override void ProcessRecord()
    {
        try
        {
            var type = TrainerTypes.Resolve(Type);
            var arguments = TrainerTypes.Constructor(type).GetParameters().Select(Argument).ToArray();
            WriteObject(Activator.CreateInstance(type, arguments));
        }
        catch (Exception e) when (e is ArgumentException or PSInvalidCastException or System.Reflection.TargetInvocationException)
        {
            var cause = e is System.Reflection.TargetInvocationException { InnerException: { } inner } ? inner : e;
            ThrowTerminatingError(new ErrorRecord(cause, "InvalidTrainerArgument", ErrorCategory.InvalidArgument, Type));
        }
    }

    private object? Argument(System.Reflection.ParameterInfo parameter) => parameter.Name switch
    {
        "dls" => DataLoaders,
        "lossFunc" => TorchObjects.Loss(LossFunction),
        "optFunc" => TorchObjects.Optimizer(Optimizer),
        "model" => Model,
        "callbacks" => Callback.Select(CallbackAdapter.FromObject).ToList(),
        "lr" => LearningRate,
        _ when _typeParameters?[TrainerTypes.ParameterName(parameter)] is { IsSet: true } set =>
            LanguagePrimitives.ConvertTo(set.Value, parameter.ParameterType, System.Globalization.CultureInfo.InvariantCulture),
        _ => parameter.HasDefaultValue ? parameter.DefaultValue
            : throw new ArgumentException($"-{TrainerTypes.ParameterName(parameter)} is required by {Type}."),
    };
}
