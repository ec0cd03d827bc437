using Isaacai.Data;
using Isaacai.Data.Images;
using Isaacai.Data.Tabular;
using Isaacai.Models;

namespace Isaacai.SavedModels;

/// <summary>
/// <c>manifest.json</c> of a saved model: what the file is, how to rebuild the model, and what its inputs and
/// outputs mean (a table's preprocessing, or how image files are prepared). The weights sit beside it as <c>weights.safetensors</c>.
/// </summary>
public sealed record ModelManifest(
    string Format,
    int FormatVersion,
    string CreatedBy,
    DateTimeOffset Created,
    string ModelType,
    ModelArchitecture? Architecture,
    TargetSpec? Target,
    TabularProcessor? Preprocessing,
    ImagePipeline? Images = null)
{
    public const string FormatName = "isaacai-model";
    public const int CurrentVersion = 1;
}
