namespace Isaacai.Data.Images;

/// <summary>
/// Random changes to training images, drawn anew for every sample in every epoch: a random resized crop, a
/// horizontal flip, a small rotation, and brightness and contrast changes (the kinds fastai's
/// <c>aug_transforms</c> and torchvision's transforms make). Only a train split augments; valid and
/// prediction are deterministic. The draws come from torch's generator through the epoch, so
/// <see cref="Isaac.SetSeed"/> repeats them, whatever threads decode the files.
/// </summary>
public sealed class ImageAugmentation
{
    /// <summary>The default set: crops keeping 75–100% of the area, flips, ±10°, ±20% brightness and contrast.</summary>
    public static ImageAugmentation Default => new();

    /// <summary>The smallest share of the image's area a random crop keeps (1: no random crop); its aspect ratio varies within 3:4 to 4:3.</summary>
    public double MinScale { get; set; } = 0.75;

    /// <summary>Whether half the images are mirrored left to right.</summary>
    public bool FlipHorizontal { get; set; } = true;

    /// <summary>The largest rotation, in degrees, either way; corners left uncovered are black.</summary>
    public double MaxRotate { get; set; } = 10;

    /// <summary>The largest brightness change as a fraction: pixels are scaled by 1 ± this.</summary>
    public double MaxBrightness { get; set; } = 0.2;

    /// <summary>The largest contrast change as a fraction: distances from the image's mean are scaled by 1 ± this.</summary>
    public double MaxContrast { get; set; } = 0.2;

    /// <summary>A copy: a dataset keeps its own, so changing the settings later cannot reach a running epoch.</summary>
    public ImageAugmentation Copy() => (ImageAugmentation)MemberwiseClone();

    /// <summary>Refuses settings outside their ranges, naming each.</summary>
    public ImageAugmentation Validated()
    {
        var problems = new List<string>();
        if (!(MinScale > 0 && MinScale <= 1)) problems.Add($"MinScale {MinScale} is not in (0, 1]");
        if (!(MaxRotate >= 0 && MaxRotate <= 180)) problems.Add($"MaxRotate {MaxRotate} is not in [0, 180] degrees");
        if (!(MaxBrightness >= 0 && MaxBrightness < 1)) problems.Add($"MaxBrightness {MaxBrightness} is not in [0, 1)");
        if (!(MaxContrast >= 0 && MaxContrast < 1)) problems.Add($"MaxContrast {MaxContrast} is not in [0, 1)");
        return problems.Count == 0 ? this : throw new ArgumentException($"Invalid image augmentation: {string.Join("; ", problems)}.");
    }

    public override string ToString() =>
        $"crop ≥ {MinScale:P0} of the area, {(FlipHorizontal ? "flips" : "no flips")}, ±{MaxRotate}°, brightness ±{MaxBrightness:P0}, contrast ±{MaxContrast:P0}";
}
