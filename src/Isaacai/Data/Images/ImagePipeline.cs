using System.Text.Json.Serialization;

namespace Isaacai.Data.Images;

/// <summary>How an image is fitted to the model's size (fastai's three ways).</summary>
public enum ResizeMethod
{
    /// <summary>The largest centred part with the target's aspect ratio, scaled to fit: nothing is distorted, edges may be lost.</summary>
    Crop,
    /// <summary>The whole image stretched to the target size: nothing is lost, shapes may be distorted.</summary>
    Squish,
    /// <summary>The whole image scaled to fit inside the target, the rest black: nothing is lost or distorted.</summary>
    Pad,
}

/// <summary>
/// How an image file becomes a model's input: decoded, oriented by its EXIF tag, fitted to
/// <see cref="Height"/>×<see cref="Width"/> by <see cref="Resize"/>, given <see cref="Channels"/> channels
/// (3: RGB; 1: luminance), scaled to [0, 1] and normalized per channel as <c>(x − Mean) / Std</c>. A dataset
/// of images and a model saved from it carry it, so prediction prepares files as training did.
/// </summary>
public sealed record ImagePipeline
{
    /// <summary>ImageNet's channel statistics (RGB, pixels in [0, 1]), which torchvision's pretrained weights expect.</summary>
    public static IReadOnlyList<double> ImageNetMean { get; } = [0.485, 0.456, 0.406];
    public static IReadOnlyList<double> ImageNetStd { get; } = [0.229, 0.224, 0.225];

    [JsonConstructor]
    public ImagePipeline(int height, int width, int channels, ResizeMethod resize, IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        if (height < 1 || width < 1 || height > MaxSide || width > MaxSide)
            throw new ArgumentOutOfRangeException(nameof(height), $"An image size must be 1 to {MaxSide} pixels a side; got {height}×{width}.");
        if (channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "Images have 1 channel (grayscale) or 3 (RGB).");
        if (!Enum.IsDefined(resize)) throw new ArgumentOutOfRangeException(nameof(resize), resize, $"Valid resize methods are {string.Join(", ", Enum.GetNames<ResizeMethod>())}.");
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count != channels || std.Count != channels)
            throw new ArgumentException($"An image pipeline of {channels} channel(s) needs {channels} means and standard deviations; got {mean.Count} and {std.Count}.");
        if (mean.Any(m => !double.IsFinite(m)) || std.Any(s => !(double.IsFinite(s) && s > 0)))
            throw new ArgumentException($"Channel means must be finite and standard deviations positive and finite; got mean [{string.Join(", ", mean)}], std [{string.Join(", ", std)}].");
        (Height, Width, Channels, Resize, Mean, Std) = (height, width, channels, resize, mean.ToArray(), std.ToArray());
    }

    /// <summary>The largest side accepted: beyond it one batch alone would not fit in memory.</summary>
    public const int MaxSide = 4096;

    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }
    public ResizeMethod Resize { get; }
    public IReadOnlyList<double> Mean { get; }
    public IReadOnlyList<double> Std { get; }

    /// <summary>The shape of one prepared image: <c>[C, H, W]</c>.</summary>
    [JsonIgnore]
    public long[] InputShape => [Channels, Height, Width];

    /// <summary>Floats in one prepared image.</summary>
    [JsonIgnore]
    public int SampleLength => Channels * Height * Width;

    /// <summary>
    /// The same pipeline normalized as pretrained torchvision weights expect: ImageNet's statistics, or for one
    /// channel their averages (the weights' first filters are then summed over RGB, so a gray pixel reads as it would in colour).
    /// </summary>
    public ImagePipeline WithImageNetNormalization() => Channels == 3 ? WithNormalization(ImageNetMean, ImageNetStd)
        : WithNormalization([ImageNetMean.Average()], [ImageNetStd.Average()]);

    /// <summary>The same pipeline with other channel statistics (ImageNet's, for pretrained weights).</summary>
    public ImagePipeline WithNormalization(IReadOnlyList<double> mean, IReadOnlyList<double> std) => new(Height, Width, Channels, Resize, mean, std);

    public bool Equals(ImagePipeline? other) => other is not null && Height == other.Height && Width == other.Width && Channels == other.Channels
        && Resize == other.Resize && Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std);

    public override int GetHashCode() => HashCode.Combine(Height, Width, Channels, Resize);

    public override string ToString() =>
        $"{Height}×{Width}, {Channels} channel(s), {Resize}; mean [{string.Join(", ", Mean.Select(m => m.ToString("G4")))}], std [{string.Join(", ", Std.Select(s => s.ToString("G4")))}]";
}
