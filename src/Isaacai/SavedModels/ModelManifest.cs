using Isaacai.Data;
using Isaacai.Data.Tabular;
using Isaacai.Models;

namespace Isaacai.SavedModels;

/// <summary>
/// <c>manifest.json</c> of a saved model: what the file is, how to rebuild the model, and what its inputs and
/// outputs mean. The weights sit beside it as <c>weights.safetensors</c>.
/// </summary>
public sealed record ModelManifest(
    string Format,
    int FormatVersion,
    string CreatedBy,
    DateTimeOffset Created,
    string ModelType,
    ModelArchitecture? Architecture,
    TargetSpec? Target,
    TabularProcessor? Preprocessing)
{
    public const string FormatName = "isaacai-model";
    public const int CurrentVersion = 1;
}
