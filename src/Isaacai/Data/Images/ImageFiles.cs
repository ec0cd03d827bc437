using SkiaSharp;
using static TorchSharp.torch;

namespace Isaacai.Data.Images;

/// <summary>Writes image tensors as files: to look at data, or to make a folder of images from tensors.</summary>
public static class ImageFiles
{
    /// <summary>
    /// Writes <paramref name="image"/> ([C, H, W] or [H, W]; 1 or 3 channels; floats in [0, 1] or bytes) to
    /// <paramref name="path"/> as PNG, JPEG or WebP, by the path's ending.
    /// </summary>
    public static void Save(Tensor image, string path, int quality = 95)
    {
        ArgumentNullException.ThrowIfNull(image);
        var format = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".png" => SKEncodedImageFormat.Png,
            ".jpg" or ".jpeg" => SKEncodedImageFormat.Jpeg,
            ".webp" => SKEncodedImageFormat.Webp,
            var other => throw new ArgumentException($"Images are written as .png, .jpg or .webp; '{other}' is none of these.", nameof(path)),
        };
        using var scope = NewDisposeScope();
        var chw = image.dim() == 2 ? image.unsqueeze(0) : image;
        if (chw.dim() != 3 || chw.shape[0] is not (1 or 3))
            throw new ArgumentException($"An image is [C, H, W] with 1 or 3 channels, or [H, W]; got [{string.Join(", ", image.shape)}].", nameof(image));
        var bytes = (chw.dtype == ScalarType.Byte ? chw : chw.clamp(0, 1).mul(255).round().to_type(ScalarType.Byte))
            .expand(3, -1, -1).permute(1, 2, 0).contiguous().cpu().data<byte>().ToArray();
        int height = (int)chw.shape[1], width = (int)chw.shape[2];
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        for (int p = 0; p < width * height; p++)
        {
            pixels[4 * p] = bytes[3 * p];
            pixels[4 * p + 1] = bytes[3 * p + 1];
            pixels[4 * p + 2] = bytes[3 * p + 2];
            pixels[4 * p + 3] = 255;
        }
        using var data = bitmap.Encode(format, quality) ?? throw new IOException($"SkiaSharp could not encode {path} as {format}.");
        using var file = File.Create(path);
        data.SaveTo(file);
    }

    /// <summary>
    /// Writes the first <paramref name="count"/> samples of <paramref name="images"/> ([N, C, H, W] or
    /// [N, H, W], normalized as <c>(x − mean) / std</c>) as <c>folder/class/index.extension</c>: a folder of
    /// class folders, as Import-IsaacImageDataset reads (a character that cannot be in a folder name, such
    /// as the '/' of "T-shirt/top", becomes '_'). Returns the paths written, in sample order.
    /// </summary>
    public static IReadOnlyList<string> SaveAll(Tensor images, IReadOnlyList<long> labels, IReadOnlyList<string> classes, string folder,
                                                string extension = ".png", double mean = 0, double std = 1, int? count = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        int n = Math.Min(count ?? int.MaxValue, (int)Math.Min(images.shape[0], labels.Count));
        var paths = new List<string>(n);
        for (int i = 0; i < n; i++)
        {
            var folderOfClass = Path.Combine(folder, FolderName(classes[(int)labels[i]]));
            Directory.CreateDirectory(folderOfClass);
            var path = Path.Combine(folderOfClass, $"{i}{extension}");
            using (var sample = images[i].mul(std).add(mean)) Save(sample, path);
            paths.Add(path);
        }
        return paths;
    }

    /// <summary>A class name as a folder name: characters a file name cannot hold become '_'.</summary>
    public static string FolderName(string className) =>
        string.Concat(className.Select(c => Path.GetInvalidFileNameChars().Contains(c) || c == '\\' ? '_' : c));
}
