using System.Management.Automation;
using Isaacai.Callbacks;
using Isaacai.Data;
using Isaacai.Metrics;
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

    /// <summary>A loss name or module; by default the usual loss of the data's task (CrossEntropy for classes, MSE for a number).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(LossNameCompleter))]
    public object? LossFunction { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(OptimizerNameCompleter))]
    public object Optimizer { get; set; } = "Adam";

    [Parameter(Mandatory = true)]
    public nn.Module<Tensor, Tensor> Model { get; set; } = null!;

    /// <summary>The callbacks; for the plain Trainer, by default BasicTrain, Metrics (the task's usual metrics) and Device.</summary>
    [Parameter]
    public object[]? Callback { get; set; }

    [Parameter]
    [ValidatePositiveFinite]
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
            DataLoaders.ThrowIfDisposed();
            var arguments = TrainerTypes.Constructor(type).GetParameters().Select(Argument).ToArray();
            WriteObject(Activator.CreateInstance(type, arguments));
        }
        catch (ObjectDisposedException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "DatasetDisposed", ErrorCategory.InvalidArgument, DataLoaders));
        }
        catch (Exception e) when (e is ArgumentException or PSInvalidCastException or System.Reflection.TargetInvocationException)
        {
            var cause = e is System.Reflection.TargetInvocationException { InnerException: { } inner } ? inner : e;
            ThrowTerminatingError(new ErrorRecord(cause, "InvalidTrainerArgument", ErrorCategory.InvalidArgument, Type));
        }
    }

    /// <summary>
    /// What a fit needs to train and report: the plain step, the task's metrics (loss only if unknown), the
    /// device, and the per-batch losses and learning rates that Export-IsaacPlot draws.
    /// </summary>
    private List<Callback> DefaultCallbacks() =>
    [
        new BasicTrainCB(),
        new MetricsCB(DataLoaders.Target is { } target ? MetricNames.ForTarget(target) : []),
        new DeviceCB(),
        new TrackingCB(),
    ];

    private object? Argument(System.Reflection.ParameterInfo parameter) => parameter.Name switch
    {
        "dls" => DataLoaders,
        "lossFunc" => LossFunction is not null ? TorchObjects.Loss(LossFunction)
            : DataLoaders.Target is { } target ? Losses.ForTarget(target)
            : throw new ArgumentException($"The data loaders do not say what their targets are, so no loss follows from them: give -LossFunction ({string.Join(", ", Losses.Names)})."),
        "optFunc" => TorchObjects.Optimizer(Optimizer),
        "model" => Model,
        // A subclass brings its own callbacks, as the seed's MomentumTrainer does; the plain Trainer gets the usual ones.
        "callbacks" => Callback?.Select(CallbackAdapter.FromObject).ToList() ?? (parameter.Member.DeclaringType == typeof(Trainer) ? DefaultCallbacks() : []),
        "lr" => LearningRate,
        _ => ConstructorParameters.Value(parameter, _typeParameters, this),
    };
}
