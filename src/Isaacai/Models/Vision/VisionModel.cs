using Isaacai.SavedModels;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Isaacai.Models.Vision;

/// <summary>The options of a <see cref="VisionModel"/>.</summary>
public sealed record VisionModelOptions(string Architecture, int OutputSize, int InputChannels = 3);

/// <summary>
/// An image classifier over one of TorchVision's architectures (<see cref="VisionArchitecture"/>), with its last
/// Linear sized to the classes and its first convolution taking 1 or 3 channels. It holds TorchVision's modules
/// under PyTorch's names, so its state dict has torchvision's keys and a torchvision <c>state_dict()</c> loads into
/// it (<see cref="LoadPretrained"/>). Two parameter groups, body then head, for freezing and discriminative rates.
/// Takes images [N, C, H, W].
/// </summary>
public sealed class VisionModel : nn.Module<Tensor, Tensor>, IHasArchitecture, IHasParameterGroups
{
    private readonly List<nn.Module<Tensor, Tensor>> _body = [];
    private readonly nn.Module<Tensor, Tensor>? _pool;
    private readonly nn.Module<Tensor, Tensor> _head;

    public VisionModel(VisionModelOptions options) : base(nameof(VisionModel))
    {
        ArgumentNullException.ThrowIfNull(options);
        Spec = VisionArchitecture.Get(options.Architecture);
        if (options.OutputSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.OutputSize, "The output size (the number of classes) must be at least 1.");
        if (options.InputChannels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(options), options.InputChannels, "A vision model takes 1 (grayscale) or 3 (RGB) input channels.");
        Options = options with { Architecture = Spec.Name };

        // TorchVision builds the whole model with the head already sized; we take its children over under their
        // own names, in PyTorch's order (TorchSharp registers fields in declaration order, which for MobileNetV2
        // puts the classifier first), and run them ourselves so the first convolution can be swapped.
        var source = Spec.Make(options.OutputSize);
        var children = source.named_children().ToDictionary(c => c.name, c => (nn.Module<Tensor, Tensor>)c.module);
        if (options.InputChannels == 1) children = WithReplaced(children, Spec.FirstConv, OneChannel);
        if (FindLinear(children, Spec.HeadLinear).out_features != options.OutputSize)
            children = WithReplaced(children, Spec.HeadLinear, linear => Resized(linear, options.OutputSize));
        foreach (var name in Spec.Body) _body.Add(children[name]);
        _pool = Spec.Pool is null ? null : children[Spec.Pool];
        _head = children[Spec.Head];
        foreach (var name in Spec.Body.Append(Spec.Pool).Append(Spec.Head).OfType<string>()) register_module(name, children[name]);
    }

    public VisionModelOptions Options { get; }

    /// <summary>Where the parts of this architecture are.</summary>
    public VisionArchitecture Spec { get; }

    public ModelArchitecture Architecture => ModelArchitecture.Of(nameof(VisionModel), Options);

    /// <summary>Body (everything before the pooling), then head (the pooling and the classifier), as fastai splits a vision learner in two.</summary>
    public IReadOnlyList<ParameterGroup> ParameterGroups =>
    [
        new("body", _body),
        new("head", _pool is null ? [_head] : [_pool, _head]),
    ];

    /// <summary>Freezes the body (its BatchNorm layers stay trainable); the head trains. See <see cref="Freezing.Freeze"/>.</summary>
    public void Freeze() => Freezing.Freeze(this);

    public void Unfreeze() => Freezing.Unfreeze(this);

    /// <summary>Whether some parameter is frozen (after <see cref="Freeze"/>).</summary>
    public bool IsFrozen => Freezing.IsFrozen(this);

    /// <summary>How many numbers the model learns, frozen ones included.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4) throw new ArgumentException($"A vision model takes images [N, C, H, W]; got a tensor of shape [{string.Join(", ", input.shape)}].");
        if (input.shape[1] != Options.InputChannels)
            throw new ArgumentException($"This {Options.Architecture} takes {Options.InputChannels}-channel images; got {input.shape[1]} channels (shape [{string.Join(", ", input.shape)}]).");
        using var scope = NewDisposeScope(); // the feature maps die here; only the logits leave
        var x = input;
        foreach (var layer in _body) x = layer.call(x);
        x = _pool is null ? nn.functional.adaptive_avg_pool2d(x, (1, 1)) : _pool.call(x);
        return _head.call(x.flatten(1)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Loads torchvision weights (a <c>torch.save(state_dict)</c> file or safetensors) key by key, BatchNorm running
    /// statistics included. The old head's last Linear is skipped when its shape differs from ours (other classes);
    /// every other difference is one error naming the file and the keys, and leaves the model as it was. Into a
    /// one-channel model, the file's RGB filters of the first convolution are summed into one, as fastai does: a
    /// gray image fed as three equal channels gives the same response. Returns the keys it skipped.
    /// </summary>
    public IReadOnlyList<string> LoadPretrained(string path)
    {
        var state = StateDicts.Read(path);
        Tensor? rgbFilters = null; // the file's own first-conv tensor, once a summed one has taken its place
        try
        {
            var ours = state_dict();
            string firstConv = Spec.FirstConv + ".weight";
            if (Options.InputChannels == 1 && state.TryGetValue(firstConv, out var rgb) && rgb.dim() == 4 && rgb.shape[1] == 3)
                (rgbFilters, state[firstConv]) = (rgb, rgb.sum(1, keepdim: true));
            var skipped = new[] { Spec.HeadLinear + ".weight", Spec.HeadLinear + ".bias" }
                .Where(key => state.TryGetValue(key, out var loaded) && ours.TryGetValue(key, out var mine) && !loaded.shape.SequenceEqual(mine.shape))
                .ToArray();
            // Weights saved before PyTorch 0.4.1 (torchvision's first ImageNet files among them) have no BatchNorm
            // num_batches_tracked; PyTorch loads them all the same. The count only matters to a BatchNorm without
            // momentum, which no torchvision architecture has, so ours keep theirs.
            var untracked = ours.Keys.Where(key => key.EndsWith(".num_batches_tracked", StringComparison.Ordinal) && !state.ContainsKey(key));
            StateDicts.LoadInto(this, state, path, skip: [.. skipped, .. untracked]);
            return skipped;
        }
        finally
        {
            foreach (var tensor in state.Values) tensor.Dispose();
            rgbFilters?.Dispose();
        }
    }

    /// <summary>The Linear at a dotted path (such as <c>classifier.3</c>) among the children.</summary>
    private static Linear FindLinear(Dictionary<string, nn.Module<Tensor, Tensor>> children, string path)
    {
        var names = path.Split('.');
        nn.Module module = children[names[0]];
        foreach (var name in names.Skip(1)) module = module.named_children().First(c => c.name == name).module;
        return (Linear)module;
    }

    /// <summary>
    /// The children with the module at a dotted path (such as <c>features.0.0</c>) replaced by what
    /// <paramref name="replace"/> makes of it. Sequentials on the path are rebuilt around the same modules, since
    /// TorchSharp's Sequential cannot swap an element.
    /// </summary>
    private static Dictionary<string, nn.Module<Tensor, Tensor>> WithReplaced(Dictionary<string, nn.Module<Tensor, Tensor>> children, string path,
                                                                             Func<nn.Module<Tensor, Tensor>, nn.Module<Tensor, Tensor>> replace)
    {
        var names = path.Split('.');
        return new(children) { [names[0]] = Replace(children[names[0]], 1) };

        nn.Module<Tensor, Tensor> Replace(nn.Module<Tensor, Tensor> module, int depth)
        {
            if (depth == names.Length) return replace(module);
            var elements = ((Sequential)module).named_children().Select(c => (c.name, (nn.Module<Tensor, Tensor>)c.module)).ToArray();
            int at = Array.FindIndex(elements, e => e.name == names[depth]);
            elements[at] = (elements[at].name, Replace(elements[at].Item2, depth + 1));
            return nn.Sequential(elements);
        }
    }

    /// <summary>
    /// A convolution like the given RGB one (kernel, stride, padding, dilation, groups, bias) over one channel,
    /// initialised as torchvision initialises its convolutions (Kaiming normal, fan-out). This is how a model takes
    /// grayscale images without tripling them: only the first layer sees the channels.
    /// </summary>
    private static Conv2d OneChannel(nn.Module<Tensor, Tensor> module)
    {
        var rgb = (Conv2d)module;
        var padding = rgb.padding ?? throw new InvalidOperationException("The first convolution uses a padding mode, which a one-channel copy does not support.");
        var conv = nn.Conv2d(1, rgb.out_channels, (rgb.kernel_size[0], rgb.kernel_size[1]), stride: (rgb.stride[0], rgb.stride[1]),
                             padding: (padding[0], padding[1]), dilation: (rgb.dilation[0], rgb.dilation[1]), groups: rgb.groups, bias: rgb.bias is not null);
        nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
        if (conv.bias is not null) nn.init.zeros_(conv.bias);
        rgb.Dispose();
        return conv;
    }

    /// <summary>A Linear like <paramref name="module"/> with <paramref name="outputs"/> outputs, initialised as torchvision initialises classifiers (normal, std 0.01; bias 0).</summary>
    private static Linear Resized(nn.Module<Tensor, Tensor> module, int outputs)
    {
        var old = (Linear)module;
        var linear = nn.Linear(old.in_features, outputs, hasBias: old.bias is not null);
        nn.init.normal_(linear.weight, 0, 0.01);
        if (linear.bias is not null) nn.init.zeros_(linear.bias);
        old.Dispose();
        return linear;
    }
}
