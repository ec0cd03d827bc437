using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Isaacai.Models;

public enum MlpActivation { ReLU, GELU, Tanh }

/// <summary>The options of an <see cref="Mlp"/>: sizes, activation, dropout after each activation, batch norm after each hidden linear layer.</summary>
public sealed record MlpOptions(int InputSize, IReadOnlyList<int> HiddenSize, int OutputSize,
                                MlpActivation Activation = MlpActivation.ReLU, double Dropout = 0, bool BatchNorm = false);

/// <summary>
/// A multilayer perceptron: for each hidden size, linear → [batch norm] → activation → [dropout]; then a
/// linear output layer. Inputs of more than two dimensions are flattened. Its state-dict keys
/// (<c>layers.0.weight</c>, …) are those of the same stack as a PyTorch <c>nn.Sequential</c> named <c>layers</c>.
/// </summary>
public sealed class Mlp : Module<Tensor, Tensor>, IHasArchitecture
{
    private readonly Sequential layers;

    public Mlp(int inputSize, IReadOnlyList<int> hiddenSize, int outputSize, MlpActivation activation = MlpActivation.ReLU, double dropout = 0, bool batchNorm = false)
        : this(new MlpOptions(inputSize, hiddenSize, outputSize, activation, dropout, batchNorm)) { }

    public Mlp(MlpOptions options) : base(nameof(Mlp))
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        var hidden = options.HiddenSize ?? throw new ArgumentException("HiddenSize is required (it may be empty for a linear model).");
        foreach (var (name, size) in hidden.Select(h => ("HiddenSize", h)).Prepend(("InputSize", options.InputSize)).Append(("OutputSize", options.OutputSize)))
            if (size < 1) throw new ArgumentOutOfRangeException(name, size, "Layer sizes must be at least 1.");
        if (!(options.Dropout >= 0 && options.Dropout < 1)) throw new ArgumentOutOfRangeException(nameof(options), options.Dropout, "Dropout must be at least 0 and less than 1.");
        if (!Enum.IsDefined(options.Activation)) throw new ArgumentOutOfRangeException(nameof(options), options.Activation, $"The activation must be one of {string.Join(", ", Enum.GetNames<MlpActivation>())}.");

        var stack = new List<Module<Tensor, Tensor>>();
        int width = options.InputSize;
        foreach (var size in hidden)
        {
            stack.Add(Linear(width, size));
            if (options.BatchNorm) stack.Add(BatchNorm1d(size));
            stack.Add(options.Activation switch { MlpActivation.GELU => GELU(), MlpActivation.Tanh => Tanh(), _ => ReLU() });
            if (options.Dropout > 0) stack.Add(Dropout(options.Dropout));
            width = size;
        }
        stack.Add(Linear(width, options.OutputSize));
        layers = Sequential(stack);
        RegisterComponents();
    }

    public MlpOptions Options { get; }

    public ModelArchitecture Architecture => ModelArchitecture.Of(nameof(Mlp), Options);

    public override Tensor forward(Tensor input)
    {
        if (input.dim() <= 2) return layers.call(input);
        using var flat = input.flatten(1);
        return layers.call(flat);
    }
}
