using TorchSharp.Modules;

namespace Isaacai.Optimization;

/// <summary>TorchSharp's AdamW (weight decay applied to the weights, decoupled from the gradient), stepping each parameter group as one flat tensor.</summary>
public sealed class AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
                          double weight_decay = 0, bool amsgrad = false, bool maximize = false)
    : FlatAdam(parameters, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupledWeightDecay: true);
