using TorchSharp;
using static TorchSharp.torch;

namespace Isaacai.Models.Vision;

/// <summary>
/// One of TorchVision's image classifiers, described by where its parts are: the children of its root module
/// that make the body, the pooling between body and head (a child, or a global average when the architecture
/// pools in its forward), the head, the head's last Linear (sized to the classes) and the first convolution
/// (adapted to the input channels). Names are PyTorch's, so state-dict keys are torchvision's.
/// </summary>
public sealed record VisionArchitecture(
    string Name,
    Func<int, nn.Module> Make, // the whole model for a number of classes (which a builder may ignore)
    IReadOnlyList<string> Body,
    string? Pool,
    string Head,
    string HeadLinear,
    string FirstConv)
{
    /// <summary>The architectures by torchvision's names (<c>torchvision.models.resnet18</c> …).</summary>
    public static IReadOnlyDictionary<string, VisionArchitecture> All { get; } = Catalog().ToDictionary(a => a.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The names <see cref="All"/> knows, in catalog order.</summary>
    public static IReadOnlyList<string> Names { get; } = Catalog().Select(a => a.Name).ToArray();

    public static VisionArchitecture Get(string name) => name is not null && All.TryGetValue(name, out var architecture) ? architecture
        : throw new ArgumentException($"'{name}' is not a known vision architecture; known ones are {string.Join(", ", Names)}.");

    private static IEnumerable<VisionArchitecture> Catalog()
    {
        string[] resnetBody = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"];
        VisionArchitecture ResNet(string name, Func<int, nn.Module> make) => new(name, make, resnetBody, "avgpool", "fc", "fc", "conv1");
        yield return ResNet("resnet18", n => torchvision.models.resnet18(n));
        yield return ResNet("resnet34", n => torchvision.models.resnet34(n));
        yield return ResNet("resnet50", n => torchvision.models.resnet50(n));
        yield return ResNet("resnet101", n => torchvision.models.resnet101(n));
        yield return ResNet("resnet152", n => torchvision.models.resnet152(n));
        // MobileNetV2 pools in its forward (no avgpool child); its classifier is Dropout, Linear.
        yield return new("mobilenet_v2", n => torchvision.models.mobilenet_v2(n), ["features"], null, "classifier", "classifier.1", "features.0.0");
        // MobileNetV3's classifier is Linear, Hardswish, Dropout, Linear; its first block is conv, norm, Hardswish.
        // TorchVision 0.107's MobileNetV3 builders take no class count: VisionModel resizes the last Linear itself.
        yield return new("mobilenet_v3_small", _ => torchvision.models.mobilenet_v3_small(), ["features"], "avgpool", "classifier", "classifier.3", "features.0.0");
        yield return new("mobilenet_v3_large", _ => torchvision.models.mobilenet_v3_large(), ["features"], "avgpool", "classifier", "classifier.3", "features.0.0");
        // VGG and AlexNet: features (first a Conv2d), a 7×7 adaptive pool, three Linears with the last one the classes'.
        foreach (var (name, make) in new (string, Func<int, nn.Module>)[]
                 {
                     ("vgg11", n => torchvision.models.vgg11(n)), ("vgg11_bn", n => torchvision.models.vgg11_bn(n)),
                     ("vgg13", n => torchvision.models.vgg13(n)), ("vgg13_bn", n => torchvision.models.vgg13_bn(n)),
                     ("vgg16", n => torchvision.models.vgg16(n)), ("vgg16_bn", n => torchvision.models.vgg16_bn(n)),
                     ("vgg19", n => torchvision.models.vgg19(n)), ("vgg19_bn", n => torchvision.models.vgg19_bn(n)),
                     ("alexnet", n => torchvision.models.alexnet(n)),
                 })
            yield return new(name, make, ["features"], "avgpool", "classifier", "classifier.6", "features.0");
    }
}
