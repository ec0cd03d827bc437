using Isaacai.Data.Tabular;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Isaacai.Models;

/// <summary>One embedded category column: where its index sits in an input row, how many rows its embedding has, and how wide each is.</summary>
public sealed record CategoryEmbedding(string Name, int Position, int Rows, int Size);

/// <summary>The options of an <see cref="EmbeddingMlp"/>: the encoded row's width, its embedded columns, and the MLP after them.</summary>
public sealed record EmbeddingMlpOptions(int InputSize, IReadOnlyList<CategoryEmbedding> Embeddings, IReadOnlyList<int> HiddenSize, int OutputSize,
                                         MlpActivation Activation = MlpActivation.ReLU, double Dropout = 0, bool BatchNorm = false)
{
    /// <summary>fastai's rule for an embedding's width: min(600, round(1.6 × rows^0.56)).</summary>
    public static int SizeRule(int rows) => Math.Min(600, (int)Math.Round(1.6 * Math.Pow(rows, 0.56), MidpointRounding.ToEven));

    /// <summary>
    /// The options for rows encoded by <paramref name="processor"/>: an embedding per embedded column, sized by
    /// <see cref="SizeRule"/> unless <paramref name="sizes"/> names the column (ignoring case).
    /// </summary>
    public static EmbeddingMlpOptions For(TabularProcessor processor, IReadOnlyList<int> hiddenSize, int outputSize,
        IReadOnlyDictionary<string, int>? sizes = null, MlpActivation activation = MlpActivation.ReLU, double dropout = 0, bool batchNorm = false)
    {
        ArgumentNullException.ThrowIfNull(processor);
        var given = new Dictionary<string, int>(sizes ?? new Dictionary<string, int>(), StringComparer.OrdinalIgnoreCase);
        var unknown = given.Keys.Where(name => !processor.EmbeddedInputs.Any(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"Embedding sizes are given for {string.Join(", ", unknown.Select(u => $"'{u}'"))}, which {(unknown.Count == 1 ? "is not an embedded column" : "are not embedded columns")}; the embedded columns are: {(processor.EmbeddedInputs.Count == 0 ? "none (convert with CategoryEncoding Embedding or Auto)" : string.Join(", ", processor.EmbeddedInputs.Select(e => e.Name)))}.");
        var embeddings = processor.EmbeddedInputs.Select(e => new CategoryEmbedding(e.Name, e.Position, e.Rows, given.TryGetValue(e.Name, out var size) ? size : SizeRule(e.Rows))).ToList();
        return new EmbeddingMlpOptions(processor.Width, embeddings, hiddenSize, outputSize, activation, dropout, batchNorm);
    }
}

/// <summary>
/// fastai's tabular model: each embedded category column's index looked up in an embedding of its own, the
/// embeddings concatenated after the row's other inputs (numbers, one-hot blocks, date parts), then an
/// <see cref="Mlp"/>. Built of standard layers only (Embedding, then Linear, BatchNorm1d, activations, Dropout).
/// Its state-dict keys are <c>embeds.0.weight</c>, … and <c>mlp.layers.0.weight</c>, …: those of a PyTorch module
/// with an <c>nn.ModuleList</c> named <c>embeds</c> and an Mlp named <c>mlp</c>.
/// </summary>
/// <remarks>
/// The input is the float row a <see cref="TabularProcessor"/> encodes, indices included (see
/// <see cref="TabularProcessor.EmbeddedInputs"/>): one tensor per batch, as for every other model, so the
/// trainer, the loaders, checkpoints and the predictor need nothing of their own for it.
/// </remarks>
public sealed class EmbeddingMlp : Module<Tensor, Tensor>, IHasArchitecture
{
    private readonly ModuleList<Embedding> embeds;
    private readonly Mlp mlp;
    // The inputs that are not indices, as runs (start, length) of the row: narrow() views, on any device.
    private readonly (int Start, int Length)[] _otherRuns;

    public EmbeddingMlp(EmbeddingMlpOptions options) : base(nameof(EmbeddingMlp))
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        var list = options.Embeddings ?? throw new ArgumentException("Embeddings is required (one per embedded column).");
        if (options.InputSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.InputSize, "InputSize must be at least 1.");
        foreach (var e in list)
        {
            if (e is null) throw new ArgumentException("An embedding is null.");
            if (e.Position < 0 || e.Position >= options.InputSize)
                throw new ArgumentOutOfRangeException(nameof(options), e.Position, $"The embedding '{e.Name}' reads input {e.Position}, outside a row of {options.InputSize} inputs.");
            if (e.Rows < 1 || e.Size < 1) throw new ArgumentOutOfRangeException(nameof(options), $"The embedding '{e.Name}' needs at least one row and a size of at least 1; it has {e.Rows} rows of size {e.Size}.");
        }
        if (list.GroupBy(e => e.Position).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"Two embeddings read input {twice.Key}; each embedded column has its own.");
        var positions = list.Select(e => e.Position).ToHashSet();
        var runs = new List<(int, int)>();
        for (int i = 0; i < options.InputSize; i++)
        {
            if (positions.Contains(i)) continue;
            int start = i;
            while (i + 1 < options.InputSize && !positions.Contains(i + 1)) i++;
            runs.Add((start, i - start + 1));
        }
        _otherRuns = [.. runs];
        int width = runs.Sum(r => r.Item2) + list.Sum(e => e.Size);

        embeds = new ModuleList<Embedding>([.. list.Select(e => Embedding(e.Rows, e.Size))]);
        // fastai's initialisation: small weights, so that no category starts far from the others.
        using (no_grad())
            foreach (var embedding in embeds) init.trunc_normal_(embedding.weight!, std: 0.01);
        mlp = new Mlp(new MlpOptions(width, options.HiddenSize!, options.OutputSize, options.Activation, options.Dropout, options.BatchNorm));
        RegisterComponents();
    }

    public EmbeddingMlpOptions Options { get; }

    public ModelArchitecture Architecture => ModelArchitecture.Of(nameof(EmbeddingMlp), Options);

    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 2 || input.shape[1] != Options.InputSize)
            throw new ArgumentException($"The inputs are [{string.Join(", ", input.shape)}]; this model takes encoded rows [N, {Options.InputSize}].", nameof(input));
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>(_otherRuns.Length + embeds.Count);
        foreach (var (start, length) in _otherRuns) parts.Add(input.narrow(1, start, length));
        for (int i = 0; i < embeds.Count; i++)
        {
            var embedding = Options.Embeddings[i];
            var index = input.select(1, embedding.Position).to_type(ScalarType.Int64);
            CheckIndices(index, input.select(1, embedding.Position), embedding);
            parts.Add(embeds[i].call(index));
        }
        return mlp.call(cat(parts, 1)).MoveToOuterDisposeScope();
    }

    /// <summary>One clear error for an index that is not a whole number within the embedding, instead of libtorch's (or, for a fraction, a silent truncation).</summary>
    private static void CheckIndices(Tensor index, Tensor given, CategoryEmbedding embedding)
    {
        if (index.numel() == 0) return;
        bool whole = given.eq(index.to_type(given.dtype)).all().item<bool>();
        long min = index.min().item<long>(), max = index.max().item<long>();
        if (whole && min >= 0 && max < embedding.Rows) return;
        throw new ArgumentException(
            $"Input {embedding.Position} holds the category index of '{embedding.Name}', a whole number from 0 to {embedding.Rows - 1}; the batch has {(whole ? $"{(min < 0 ? min : max)}" : "a value that is not a whole number")} there. Encode rows with the model's preprocessing (Invoke-IsaacPredict, or TabularProcessor.Transform).");
    }
}
