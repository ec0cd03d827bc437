using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Isaacai.Models;

/// <summary>The options of a <see cref="SimpleNet"/>, named as the seed's arguments.</summary>
public sealed record SimpleNetOptions(int NIn, int NHidden, int NOut);

/// <summary>The seed's model: flatten, linear, ReLU, linear.</summary>
public sealed class SimpleNet : Module<Tensor, Tensor>, IHasArchitecture
{
    private readonly Flatten flatten = Flatten();
    private readonly Linear hidden;
    private readonly ReLU relu = ReLU();
    private readonly Linear output;

    public SimpleNet(SimpleNetOptions options) : this(options.NIn, options.NHidden, options.NOut) { }

    public SimpleNet(int nIn, int nHidden, int nOut) : base(nameof(SimpleNet))
    {
        Options = new SimpleNetOptions(nIn, nHidden, nOut);
        foreach (var (name, size) in new[] { (nameof(nIn), nIn), (nameof(nHidden), nHidden), (nameof(nOut), nOut) })
            if (size < 1) throw new ArgumentOutOfRangeException(name, size, "Layer sizes must be at least 1.");
        hidden = Linear(nIn, nHidden);
        output = Linear(nHidden, nOut);
        RegisterComponents();
    }

    public SimpleNetOptions Options { get; }

    public ModelArchitecture Architecture => ModelArchitecture.Of(nameof(SimpleNet), Options);

    public override Tensor forward(Tensor input)
    {
        using var flat = flatten.call(input);
        using var h = hidden.call(flat);
        using var a = relu.call(h);
        return output.call(a);
    }
}
