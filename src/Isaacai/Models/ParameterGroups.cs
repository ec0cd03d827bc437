using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Isaacai.Models;

/// <summary>
/// A named part of a model whose parameters train at their own learning rate: fastai's parameter groups, as a
/// model's splitter makes them. The modules are kept (not only their parameters) so freezing can tell a
/// BatchNorm layer's parameters from the rest.
/// </summary>
public sealed record ParameterGroup(string Name, IReadOnlyList<nn.Module> Modules)
{
    /// <summary>Every parameter of the group's modules, each once.</summary>
    public IEnumerable<Parameter> Parameters => Modules.SelectMany(m => m.parameters()).DistinctBy(p => p.Handle);
}

/// <summary>
/// A model split into parameter groups, from the input side (the body) to the output side (the head), which is
/// the last group. Discriminative learning rates give each group its own rate; freezing stops all but the head.
/// </summary>
public interface IHasParameterGroups
{
    IReadOnlyList<ParameterGroup> ParameterGroups { get; }
}

/// <summary>fastai's freeze and unfreeze over a model's parameter groups.</summary>
public static class Freezing
{
    /// <summary>
    /// Stops training every group but the last (the head): their parameters stop requiring gradients, except
    /// those of BatchNorm layers, which stay trainable as in fastai (<c>train_bn</c>): a pretrained body's
    /// normalisation statistics then adapt to the new data while its convolutions keep their weights. Gradients
    /// the frozen parameters still hold are dropped, so nothing can step them with an old gradient.
    /// </summary>
    public static void Freeze(IHasParameterGroups model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var groups = model.ParameterGroups;
        foreach (var group in groups.Take(groups.Count - 1))
            foreach (var module in group.Modules)
                foreach (var (_, layer) in module.named_modules().Prepend(("", module)))
                {
                    if (layer is BatchNorm) continue;
                    foreach (var (_, parameter) in layer.named_parameters(recurse: false))
                    {
                        parameter.requires_grad = false;
                        parameter.grad = null;
                    }
                }
    }

    /// <summary>Makes every parameter of the model trainable again.</summary>
    public static void Unfreeze(IHasParameterGroups model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var parameter in model.ParameterGroups.SelectMany(g => g.Parameters)) parameter.requires_grad = true;
    }

    /// <summary>Whether any parameter of the model is frozen (does not require gradients).</summary>
    public static bool IsFrozen(nn.Module model) => model.parameters().Any(p => !p.requires_grad);
}
