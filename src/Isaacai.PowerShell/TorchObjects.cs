using System.Management.Automation;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Isaacai.PowerShell;

/// <summary>Turns names, objects and scriptblocks users pass for losses, optimizers and models into engine types.</summary>
public static class TorchObjects
{
    public static nn.Module<Tensor, Tensor, Tensor> Loss(object value) => Unwrap(value) switch
    {
        string name => Losses.FromName(name),
        nn.Module<Tensor, Tensor, Tensor> module => module,
        var other => throw new ArgumentException($"-LossFunction takes a loss name ({string.Join(", ", Losses.Names)}) or a TorchSharp loss module; got {other?.GetType().FullName ?? "null"}."),
    };

    /// <summary>A name, an OptimizerFactory, or a scriptblock <c>{ param($parameters, $lr) ... }</c> returning an optimizer.</summary>
    public static OptimizerFactory Optimizer(object value) => Unwrap(value) switch
    {
        string name => Optimizers.FromName(name),
        OptimizerFactory factory => factory,
        ScriptBlock script => (parameters, lr) => Unwrap(script.Invoke(parameters.ToList(), lr).LastOrDefault()) as optim.Optimizer
            ?? throw new InvalidOperationException("The -Optimizer scriptblock must return a TorchSharp optimizer."),
        var other => throw new ArgumentException($"-Optimizer takes an optimizer name ({string.Join(", ", Optimizers.Names)}), an Isaacai.OptimizerFactory or a scriptblock; got {other?.GetType().FullName ?? "null"}."),
    };

    /// <summary>What a -Model parameter that also takes a trainer means: the object itself, or the trainer's model.</summary>
    public static object? ModelOf(object? value) => Unwrap(value) switch
    {
        Trainer trainer => trainer.Model,
        Inference.Predictor predictor => predictor.Model,
        var other => other,
    };

    /// <summary>The object a PowerShell value wraps.</summary>
    public static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;
}
