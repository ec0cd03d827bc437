using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Isaacai.Models;

/// <summary>
/// How to build a model again: its kind and its options, as JSON. A saved model keeps it, so the module's
/// own models load without the user's help; a model of the user's own has none and is passed in instead.
/// </summary>
public sealed record ModelArchitecture(string Kind, JsonObject Options)
{
    /// <summary>The kinds <see cref="Build"/> knows.</summary>
    public static IReadOnlyList<string> Kinds { get; } = [nameof(SimpleNet), nameof(Mlp), nameof(EmbeddingMlp), nameof(ConvNet), nameof(Vision.VisionModel)];

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public static ModelArchitecture Of<TOptions>(string kind, TOptions options) =>
        new(kind, JsonSerializer.SerializeToNode(options, Json)!.AsObject());

    /// <summary>A new model of this architecture, with freshly initialised weights.</summary>
    public nn.Module<Tensor, Tensor> Build()
    {
        try
        {
            return Kind switch
            {
                nameof(SimpleNet) => new SimpleNet(Read<SimpleNetOptions>()),
                nameof(Mlp) => new Mlp(Read<MlpOptions>()),
                nameof(EmbeddingMlp) => new EmbeddingMlp(Read<EmbeddingMlpOptions>()),
                nameof(ConvNet) => new ConvNet(Read<ConvNetOptions>()),
                nameof(Vision.VisionModel) => new Vision.VisionModel(Read<Vision.VisionModelOptions>()),
                _ => throw new InvalidDataException($"Unknown model kind '{Kind}'; known kinds are {string.Join(", ", Kinds)}."),
            };
        }
        catch (Exception e) when (e is JsonException or ArgumentException or NullReferenceException)
        {
            throw new InvalidDataException($"The {Kind} options {Options.ToJsonString()} do not describe a valid model: {e.Message}", e);
        }
        catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or OutOfMemoryException)
        {
            // libtorch could not allocate the weights: sizes far beyond any real model of this kind.
            throw new InvalidDataException($"The {Kind} options {Options.ToJsonString()} describe a model too large to build here: {e.Message.Split('\n')[0]}", e);
        }
    }

    private T Read<T>() => Options.Deserialize<T>(Json) ?? throw new InvalidDataException($"The {Kind} options are empty.");
}

/// <summary>A model that can say how to build it again.</summary>
public interface IHasArchitecture
{
    ModelArchitecture Architecture { get; }
}
