using Isaacai.Callbacks;
using Isaacai.Data;
using static TorchSharp.torch;

namespace Isaacai;

/// <summary>
/// The seed's subclass: a trainer that brings its own callbacks (momentum, device, tracking). Its
/// constructor shows <c>momentum</c> beside the base parameters, as <c>init_delegates</c> makes the
/// seed's signature do.
/// </summary>
public class MomentumTrainer : Trainer
{
    public MomentumTrainer(DataLoaders dls, nn.Module<Tensor, Tensor, Tensor> lossFunc, OptimizerFactory optFunc,
                           nn.Module<Tensor, Tensor> model, IEnumerable<Callback>? callbacks = null, double lr = 1e-3,
                           double momentum = 0.85)
        : base(dls, lossFunc, optFunc, model, callbacks, lr)
    {
        AddCallbacks(new MomentumTrainCB(momentum), new DeviceCB(), new TrackingCB());
    }
}
