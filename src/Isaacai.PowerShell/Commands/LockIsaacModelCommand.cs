using System.Management.Automation;
using Isaacai.Models;
using static TorchSharp.torch;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Lock-IsaacModel: freezes a model's body (fastai's freeze): only the head, and the body's BatchNorm layers, train.
/// Lock/Unlock are PowerShell's approved verbs for making something unchangeable and changeable again.
/// </summary>
[Cmdlet(VerbsCommon.Lock, "IsaacModel")]
[OutputType(typeof(nn.Module<Tensor, Tensor>))]
public sealed class LockIsaacModelCommand : FreezingCommand
{
    protected override void Apply(IHasParameterGroups model) => Freezing.Freeze(model);
}

/// <summary>Unlock-IsaacModel: makes every parameter of a model trainable again (fastai's unfreeze).</summary>
[Cmdlet(VerbsCommon.Unlock, "IsaacModel")]
[OutputType(typeof(nn.Module<Tensor, Tensor>))]
public sealed class UnlockIsaacModelCommand : FreezingCommand
{
    protected override void Apply(IHasParameterGroups model) => Freezing.Unfreeze(model);
}
