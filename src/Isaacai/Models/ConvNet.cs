using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Isaacai.Models;

/// <summary>The options of a <see cref="ConvNet"/>.</summary>
public sealed record ConvNetOptions(int InputChannels = 1, IReadOnlyList<int>? Channels = null, int OutputSize = 10, int KernelSize = 3)
{
    /// <summary>The channels of the conv → batch norm → ReLU blocks; 8, 16, 32, 64 by default.</summary>
    public IReadOnlyList<int> Channels { get; init; } = Channels ?? [8, 16, 32, 64];
}

/// <summary>
/// The small image classifier of fastai's course: blocks of stride-2 convolution → batch norm → ReLU, each
/// halving the image, then a stride-2 convolution to one channel per class, averaged over what is left of
/// the image and flattened. Takes images [N, C, H, W].
/// </summary>
public sealed class ConvNet : Module<Tensor, Tensor>, IHasArchitecture
{
    private readonly Sequential layers;

    public ConvNet(ConvNetOptions options) : base(nameof(ConvNet))
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        foreach (var (name, size) in options.Channels.Select(c => ("Channels", c)).Prepend(("InputChannels", options.InputChannels)).Append(("OutputSize", options.OutputSize)))
            if (size < 1) throw new ArgumentOutOfRangeException(name, size, "Channel counts and the output size must be at least 1.");
        if (options.KernelSize < 1 || options.KernelSize % 2 == 0) throw new ArgumentOutOfRangeException(nameof(options), options.KernelSize, "The kernel size must be odd and at least 1.");

        int k = options.KernelSize, channels = options.InputChannels;
        var stack = new List<Module<Tensor, Tensor>>();
        foreach (var c in options.Channels)
        {
            // No bias before batch norm: its shift would cancel it.
            stack.Add(Sequential(Conv2d(channels, c, k, stride: 2, padding: k / 2, bias: false), BatchNorm2d(c), ReLU()));
            channels = c;
        }
        stack.Add(Conv2d(channels, options.OutputSize, k, stride: 2, padding: k / 2));
        stack.Add(AdaptiveAvgPool2d(1));
        stack.Add(Flatten());
        layers = Sequential(stack);
        RegisterComponents();
    }

    public ConvNetOptions Options { get; }

    public ModelArchitecture Architecture => ModelArchitecture.Of(nameof(ConvNet), Options);

    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4) throw new ArgumentException($"A ConvNet takes images [N, C, H, W]; got a tensor of shape [{string.Join(", ", input.shape)}].");
        if (input.shape[1] != Options.InputChannels)
            throw new ArgumentException($"This ConvNet takes images of {Options.InputChannels} channel(s), [N, {Options.InputChannels}, H, W]; got [{string.Join(", ", input.shape)}]. Make it from the dataset (its InputChannels), or prepare the images with that many channels.");
        return layers.call(input);
    }
}
