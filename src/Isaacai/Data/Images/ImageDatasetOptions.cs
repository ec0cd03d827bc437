namespace Isaacai.Data.Images;

/// <summary>How image files become a dataset: the size and channels they are prepared to, and how they are split.</summary>
public sealed record ImageDatasetOptions
{
    /// <summary>The prepared images' height and width in pixels.</summary>
    public int Height { get; init; } = 64;
    public int Width { get; init; } = 64;
    public ResizeMethod Resize { get; init; } = ResizeMethod.Crop;

    /// <summary>3 (RGB; grayscale, palette and alpha images are converted) or 1 (luminance).</summary>
    public int Channels { get; init; } = 3;

    /// <summary>The share of each class held out for validation, when a folder is not already split.</summary>
    public double ValidFraction { get; init; } = 0.2;
    public int Seed { get; init; } = 42;

    /// <summary>The subfolder names of a folder that is already split into train and valid.</summary>
    public string TrainFolder { get; init; } = "train";
    public string ValidFolder { get; init; } = "valid";

    /// <summary>Random changes to train images, or null for none.</summary>
    public ImageAugmentation? Augmentation { get; init; }

    /// <summary>Threads decoding files; 0 picks <see cref="ImageDataset.DefaultWorkers"/>.</summary>
    public int Workers { get; init; }

    /// <summary>Leave out files that cannot be read as images (one warning counts them) instead of refusing the dataset.</summary>
    public bool SkipUnreadable { get; init; }

    /// <summary>How many train images (at most) the channel statistics are measured on.</summary>
    public int StatisticsSamples { get; init; } = 1000;
}
