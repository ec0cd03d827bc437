using TorchSharp;
using static TorchSharp.torch;

namespace Isaacai.Callbacks;

/// <summary>Puts the model and each batch on one device: CUDA when there is one, else the CPU.</summary>
public class DeviceCB : Callback
{
    public DeviceCB(Device? device = null) => Device = device ?? (cuda.is_available() ? CUDA : CPU);

    public Device Device { get; }

    public override void BeforeFit(Trainer trainer)
    {
        var first = trainer.Model.parameters().FirstOrDefault();
        if (first is null || SameDevice(first)) return;
        trainer.Model.to(Device);
        // TorchSharp's Module.to swaps in new parameter objects, so the optimizer must follow them.
        trainer.CreateOptimizer();
    }

    public override void BeforeBatch(Trainer trainer)
    {
        var batch = trainer.Batch!;
        if (!SameDevice(batch.X)) batch.X = batch.X.to(Device);
        if (!SameDevice(batch.Y)) batch.Y = batch.Y.to(Device);
    }

    private bool SameDevice(Tensor tensor) =>
        tensor.device_type == Device.type && (Device.index < 0 || tensor.device_index == Device.index);

    public override string ToString() => $"{Name} ({Device})";
}
