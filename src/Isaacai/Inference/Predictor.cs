using System.Runtime.InteropServices;
using Isaacai.Data;
using Isaacai.Data.Images;
using Isaacai.Data.Tabular;
using Isaacai.Models;
using static TorchSharp.torch;

namespace Isaacai.Inference;

/// <summary>
/// A trained model with what it needs to predict: the target (class names, or a regression target's units)
/// and how inputs are prepared: a table's preprocessing, or an image pipeline. Predictions run in batches,
/// in eval mode, without gradients.
/// </summary>
public sealed class Predictor
{
    public const int DefaultBatchSize = 1024;

    public Predictor(nn.Module<Tensor, Tensor> model, TargetSpec? target = null, TabularProcessor? processor = null, ImagePipeline? images = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        if (processor is not null && images is not null) throw new ArgumentException("A model takes a table's rows or image files, not both.");
        Processor = processor;
        Images = images;
        Target = processor?.Target ?? target;
    }

    /// <summary>What a trainer has learnt: its model, with the target and preprocessing of its data.</summary>
    public static Predictor FromTrainer(Trainer trainer) => new(trainer.Model, trainer.Dls.Target, trainer.Dls.Processor, trainer.Dls.Images);

    public nn.Module<Tensor, Tensor> Model { get; }
    public TargetSpec? Target { get; }
    public TabularProcessor? Processor { get; }

    /// <summary>How image files are prepared for the model, for a model trained on images.</summary>
    public ImagePipeline? Images { get; }

    /// <summary>How to build the model again, when it is one of the library's own.</summary>
    public ModelArchitecture? Architecture => (Model as IHasArchitecture)?.Architecture;

    /// <summary>The model's outputs for <paramref name="inputs"/> (first dimension the sample), on the CPU.</summary>
    public Tensor Outputs(Tensor inputs, int batchSize = DefaultBatchSize)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (inputs.dim() == 0) throw new ArgumentException("Inputs need a first dimension: one entry per sample.", nameof(inputs));
        CheckInputs(inputs);
        var device = Model.parameters().FirstOrDefault()?.device ?? CPU;
        using (ModuleModes.Eval(Model))
        {
            using var _ = no_grad();
            var parts = new List<Tensor>();
            using var scope = NewDisposeScope();
            for (long start = 0; start < inputs.shape[0]; start += batchSize)
            {
                // Each batch's tensors freed with the batch, all but its outputs: kept to the end, a million rows'
                // hidden activations would all be held at once, and freed memory that the allocator gives back to the
                // system is faulted in again by the next batch.
                using var batchScope = NewDisposeScope();
                // A copy in torch's own (aligned) memory: a tensor that wraps a managed array lies wherever .NET put
                // it, and CPU kernels then vary in the last bit with the alignment.
                var batch = inputs.narrow(0, start, Math.Min(batchSize, inputs.shape[0] - start)).to(device).clone();
                parts.Add(Model.call(batch).cpu().MoveToOuterDisposeScope());
            }
            var all = parts.Count == 0 ? empty(0) : cat(parts, 0);
            return all.MoveToOuterDisposeScope();
        }
    }

    /// <summary>What one sample's input is, where the predictor knows: a table's encoded row, or a prepared image.</summary>
    public long[]? InputShape => Processor is { } processor ? [processor.Width] : Images?.InputShape;

    /// <summary>One clear error, naming what is valid, for inputs the model cannot take (instead of libtorch's).</summary>
    private void CheckInputs(Tensor inputs)
    {
        string Shape(long[] shape) => $"[{string.Join(", ", shape)}]";
        var dtype = Model.parameters().FirstOrDefault()?.dtype ?? ScalarType.Float32;
        if (inputs.dtype != dtype)
            throw new ArgumentException($"The inputs are {inputs.dtype} {Shape(inputs.shape)}; this model takes {dtype} tensors: convert them first (.to_type({dtype})).", nameof(inputs));
        if (InputShape is { } sample && !inputs.shape.Skip(1).SequenceEqual(sample))
            throw new ArgumentException($"The inputs are {Shape(inputs.shape)}; this model takes {Shape([.. new long[] { -1 }, .. sample]).Replace("-1", "N")} "
                + $"({(Processor is not null ? "encoded rows" : "prepared images")}, N samples first){(inputs.shape.SequenceEqual(sample) ? "; for one sample, add the sample dimension (unsqueeze(0))" : "")}.", nameof(inputs));
    }

    /// <summary>
    /// Runs one blank sample through the model, where the input shape is known, to check that the model takes what
    /// the preprocessing makes and gives what the target needs: a saved file whose parts disagree is refused when
    /// it is read, with <paramref name="source"/> named, not at its first prediction with libtorch's words.
    /// </summary>
    internal void CheckModelFitsInputs(string source)
    {
        if (InputShape is not { } sample) return;
        // A zero index fits any embedding, so the blank sample below cannot tell embeddings of the wrong size.
        if (Model is EmbeddingMlp embedding && Processor is { } processor
            && !embedding.Options.Embeddings.Select(e => (e.Position, e.Rows)).SequenceEqual(processor.EmbeddedInputs.Select(e => (e.Position, e.Rows))))
            throw new InvalidDataException($"{source}: its model embeds {Describe(embedding.Options.Embeddings.Select(e => (e.Position, e.Rows)))}, but its preprocessing encodes {Describe(processor.EmbeddedInputs.Select(e => (e.Position, e.Rows)))}.");
        var dtype = Model.parameters().FirstOrDefault()?.dtype ?? ScalarType.Float32;
        using var blank = zeros([1, .. sample], dtype);
        Tensor outputs;
        try { outputs = Outputs(blank); }
        catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"{source}: its model does not take the inputs its {(Processor is not null ? "preprocessing" : "image pipeline")} makes ([N, {string.Join(", ", sample)}]): {e.Message.Split('\n')[0]}", e);
        }
        using (outputs)
        {
            long perSample = outputs.numel();
            if (Target is { } target && perSample != target.OutputSize)
                throw new InvalidDataException($"{source}: its model gives {perSample} outputs per sample, but its target '{target.Name}' needs {target.OutputSize}.");
        }
    }

    private static string Describe(IEnumerable<(int Position, int Rows)> embedded) =>
        string.Join(", ", embedded.Select(e => $"input {e.Position} as one of {e.Rows} categories")) is { Length: > 0 } text ? text : "no category index";

    /// <summary>Predictions for samples that are already tensors (images, say): one per entry of the first dimension.</summary>
    public IReadOnlyList<Prediction> Predict(Tensor inputs, int batchSize = DefaultBatchSize)
    {
        using var outputs = Outputs(inputs, batchSize);
        return Decode(outputs);
    }

    /// <summary>As <see cref="Predict(Tensor, int)"/>, held as arrays with no object per sample: see <see cref="PredictionBatch"/>.</summary>
    public PredictionBatch PredictBatch(Tensor inputs, int batchSize = DefaultBatchSize)
    {
        using var outputs = Outputs(inputs, batchSize);
        return DecodeBatch(outputs);
    }

    /// <summary>
    /// Predictions for rows that <see cref="TabularProcessor.EncodeRow"/> has already encoded, <see cref="TabularProcessor.Width"/>
    /// values each, one after another: copied once into torch's memory, and held as arrays (rows of objects, a few thousand at a time).
    /// </summary>
    public unsafe PredictionBatch PredictEncodedRows(ReadOnlySpan<float> encoded, int batchSize = DefaultBatchSize)
    {
        var processor = Processor ?? throw new InvalidOperationException("This model was not trained on a table, so it has no encoded rows; predict on tensors instead.");
        if (encoded.Length % processor.Width != 0)
            throw new ArgumentException($"Encoded rows hold {processor.Width} values each; {encoded.Length} values are not whole rows.", nameof(encoded));
        using var inputs = empty([encoded.Length / processor.Width, processor.Width]);
        encoded.CopyTo(new Span<float>((void*)Optimization.NativeGradients.AddressOf(inputs), encoded.Length));
        return PredictBatch(inputs, batchSize);
    }

    /// <summary>Predictions for the rows of a table, through the same preprocessing as training.</summary>
    public IReadOnlyList<Prediction> Predict(TabularTable table, int batchSize = DefaultBatchSize)
    {
        var processor = Processor ?? throw new InvalidOperationException("This model was not trained on a table, so it has no preprocessing to apply to rows; predict on tensors instead.");
        using var inputs = processor.Transform(table);
        return Predict(inputs, batchSize);
    }

    /// <summary>
    /// Predictions for image files, prepared as in training (no augmentation), <paramref name="batchSize"/> at
    /// a time. A file that cannot be read is that file's <see cref="ImageFilePrediction.Error"/>; the others go on.
    /// </summary>
    public IEnumerable<ImageFilePrediction> PredictFiles(IEnumerable<string> paths, int batchSize = 64)
    {
        var pipeline = Images ?? throw new InvalidOperationException("This model was not trained on image files, so it has no image pipeline to prepare files with; predict on tensors instead.");
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        // Files are decoded a bounded number at a time (about 256 MB of floats), whatever the batch size.
        int decodeAtOnce = (int)Math.Clamp((256L << 20) / (sizeof(float) * (long)pipeline.SampleLength), 1, batchSize);
        foreach (var chunk in paths.Chunk(decodeAtOnce))
        {
            var (inputs, errors) = ImageBatches.DecodeEach(chunk, pipeline, ImageDataset.DefaultWorkers);
            IReadOnlyList<Prediction> predictions = [];
            if (inputs is not null)
                using (inputs) predictions = Predict(inputs, batchSize);
            int next = 0;
            for (int i = 0; i < chunk.Length; i++)
                yield return errors[i] is { } error ? new ImageFilePrediction(chunk[i], null, error) : new ImageFilePrediction(chunk[i], predictions[next++], null);
        }
    }

    /// <summary>Turns model outputs [N, K] into predictions: classes with probabilities, numbers in the target's units, or raw outputs.</summary>
    public IReadOnlyList<Prediction> Decode(Tensor outputs)
    {
        var batch = DecodeBatch(outputs);
        return Enumerable.Range(0, batch.Count).Select(i => batch[i]).ToList();
    }

    /// <summary>
    /// What <see cref="Decode"/> reads from model outputs [N, K], with no object per sample (a file's or a pipeline's
    /// rows need none): each sample's class probabilities and its class, or its number in the target's units, or
    /// its raw outputs.
    /// </summary>
    public PredictionBatch DecodeBatch(Tensor outputs)
    {
        long n = outputs.shape[0];
        if (n == 0) return new PredictionBatch(Target, 0, 0, [], Target is { Task: TaskKind.Classification } ? [] : null);
        using var scope = NewDisposeScope();
        var flat = outputs.reshape(n, -1);
        if (Target is not null) ThrowIfNotFinite(flat);
        if (Target is { Task: TaskKind.Classification } target)
        {
            if (flat.shape[1] != target.Classes.Count)
                throw new InvalidOperationException($"The model gives {flat.shape[1]} outputs per sample, but the target '{target.Name}' has {target.Classes.Count} classes.");
            var probabilities = Doubles(flat.to_type(ScalarType.Float64).softmax(1));
            int k = target.Classes.Count;
            var best = new int[n];
            for (int i = 0; i < n; i++)
            {
                var row = probabilities.AsSpan(i * k, k);
                for (int c = 1; c < k; c++) if (row[c] > row[best[i]]) best[i] = c;
            }
            return new PredictionBatch(target, (int)n, k, probabilities, best);
        }
        var values = Doubles(flat.to_type(ScalarType.Float64));
        int width = (int)flat.shape[1];
        if (Target is { Task: TaskKind.Regression } numeric)
        {
            if (width != 1) throw new InvalidOperationException($"The model gives {width} outputs per sample; a regression target needs one.");
            for (int i = 0; i < values.Length; i++) values[i] = values[i] * numeric.Std + numeric.Mean;
        }
        return new PredictionBatch(Target, (int)n, width, values, null);
    }

    /// <summary>A float64 tensor's values, copied at once from its memory (TorchSharp's accessor copies value by value).</summary>
    private static double[] Doubles(Tensor float64)
    {
        var contiguous = float64.contiguous();
        var values = new double[contiguous.numel()];
        Marshal.Copy(Optimization.NativeGradients.AddressOf(contiguous), values, 0, values.Length);
        return values;
    }

    /// <summary>Called inside <see cref="Decode"/>'s dispose scope. A NaN output would come back as a class with probability NaN, or a NaN number: an error instead, naming the first such sample.</summary>
    private static void ThrowIfNotFinite(Tensor flat)
    {
        using var finite = flat.isfinite().all(1);
        using var bad = finite.logical_not().nonzero();
        if (bad.shape[0] == 0) return;
        long first = bad[0, 0].item<long>();
        throw new InvalidOperationException(
            $"The model's output for sample {first + 1} (of {flat.shape[0]}{(bad.shape[0] > 1 ? $"; {bad.shape[0]} samples in all" : "")}) is not a finite number, so it has no prediction: " +
            "its inputs hold a NaN or an infinity, or values too large for float32, or the model's weights are not finite.");
    }

    public override string ToString() => $"Predictor({Model.GetName()}; {(Target is null ? "raw outputs" : $"target {Target}")})";
}
