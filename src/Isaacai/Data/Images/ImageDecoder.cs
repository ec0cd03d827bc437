using SkiaSharp;

namespace Isaacai.Data.Images;

/// <summary>
/// Turns one image file into a prepared sample, through SkiaSharp: decode (scaled down by the codec where the
/// format allows, as JPEG does), orient by EXIF, fit to the pipeline's size (and, for training, augment) in
/// one affine draw onto black, then channels as floats in [0, 1], brightness and contrast, normalization.
/// Safe on any thread: each thread keeps its own canvas.
/// </summary>
public static class ImageDecoder
{
    public const string FormatNames = "JPEG, PNG, BMP, GIF (first frame) and WebP";

    /// <summary>The file endings a folder is searched for.</summary>
    public static IReadOnlySet<string> Extensions { get; } =
        new HashSet<string>([".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".gif", ".webp"], StringComparer.OrdinalIgnoreCase);

    /// <summary>The most pixels a file may decode to (PIL's limit is of the same size): a small file declaring more would take gigabytes.</summary>
    public const long MaxPixels = 1L << 27;

    [ThreadStatic] private static SKBitmap? _canvasBitmap;
    [ThreadStatic] private static SKCanvas? _canvas;

    /// <summary>What is wrong with a file as an image, from its header alone; null when it looks readable.</summary>
    public static string? Problem(string path)
    {
        try
        {
            using var codec = OpenCodec(path);
            return codec.Info.Width < 1 || codec.Info.Height < 1 ? "has no pixels" : TooLarge(codec.Info.Width, codec.Info.Height);
        }
        catch (ImageFileException e) { return e.Problem; }
    }

    /// <summary>
    /// Decodes <paramref name="path"/> into <paramref name="destination"/> (<c>[C, H, W]</c> floats, normalized).
    /// With <paramref name="augmentation"/>, the random changes are drawn from <paramref name="random"/>.
    /// </summary>
    public static void Decode(string path, ImagePipeline pipeline, Span<float> destination, ImageAugmentation? augmentation = null, Random? random = null)
    {
        if (destination.Length != pipeline.SampleLength)
            throw new ArgumentException($"The destination holds {destination.Length} floats; a {pipeline.Height}×{pipeline.Width}×{pipeline.Channels} image needs {pipeline.SampleLength}.", nameof(destination));
        if (augmentation is not null && random is null) throw new ArgumentNullException(nameof(random), "Augmenting needs a random source.");
        SKBitmap source;
        SKMatrix orient;
        int width, height;
        try { source = DecodeOriented(path, pipeline, augmentation, out orient, out width, out height); }
        catch (Exception e) when (e is not (ImageFileException or OperationCanceledException))
        {
            // SkiaSharp's own failures (pixels it cannot allocate, say) are this file's error, named.
            throw new ImageFileException(path, $"could not be decoded ({e.Message})", e);
        }
        using var _ = source;
        var canvas = CanvasFor(pipeline.Width, pipeline.Height);
        var layout = Layout(width, height, pipeline, augmentation, random);
        var matrix = orient.PostConcat(layout);
        canvas.Clear(SKColors.Black);
        canvas.SetMatrix(matrix);
        // Mipmaps keep a shrunk image from aliasing; enlarging needs none, and building them costs a fifth of the draw.
        bool shrinking = Math.Abs(matrix.ScaleX * matrix.ScaleY - matrix.SkewX * matrix.SkewY) < 1;
        using (var pixels = source.PeekPixels())
        using (var image = SKImage.FromPixels(pixels)) // no copy: the image lives only for this draw
            canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Linear, shrinking ? SKMipmapMode.Linear : SKMipmapMode.None));
        canvas.Flush();
        double brightness = 1, contrast = 1;
        if (augmentation is not null)
        {
            brightness = 1 + Uniform(random!, -augmentation.MaxBrightness, augmentation.MaxBrightness);
            contrast = 1 + Uniform(random!, -augmentation.MaxContrast, augmentation.MaxContrast);
        }
        WriteChannels(_canvasBitmap!.GetPixelSpan(), pipeline, destination, brightness, contrast);
    }

    /// <summary>The codec of a readable, non-empty image file; otherwise this file's error, saying why.</summary>
    private static SKCodec OpenCodec(string path)
    {
        try
        {
            var file = new FileInfo(path);
            if (!file.Exists) throw new ImageFileException(path, Directory.Exists(path) ? "is a folder, not an image file" : "does not exist");
            if (file.Length == 0) throw new ImageFileException(path, "is empty (0 bytes)");
            if (SKCodec.Create(path, out var created) is { } codec) return codec;
            using (File.OpenRead(path)) { } // SkiaSharp says nothing of permissions: this throws if the file cannot be opened
            throw new ImageFileException(path, $"is not an image that can be decoded ({Describe(created)})");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not ImageFileException)
        {
            throw new ImageFileException(path, $"cannot be read ({e.Message})", e);
        }
    }

    private static string? TooLarge(long width, long height) =>
        width * height > MaxPixels ? $"is {width}×{height} pixels, more than the {MaxPixels:N0} an image may have here; make it smaller" : null;

    /// <summary>The decoded pixels, and the matrix that turns them upright (EXIF orientation) into a width×height image.</summary>
    private static SKBitmap DecodeOriented(string path, ImagePipeline pipeline, ImageAugmentation? augmentation, out SKMatrix orient, out int width, out int height)
    {
        var codec = OpenCodec(path);
        using (codec)
        {
            bool sideways = codec.EncodedOrigin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
            int uprightWidth = sideways ? codec.Info.Height : codec.Info.Width, uprightHeight = sideways ? codec.Info.Width : codec.Info.Height;
            // Decode no larger than twice the target (the codec picks the nearest size it supports at or above it):
            // a 12-megapixel JPEG for a 224-pixel model is decoded at an eighth of its size, much faster. A random
            // crop keeps as little as MinScale of the area, so it needs that much more resolution to stay sharp.
            double zoom = augmentation is null ? 1 : 1 / Math.Sqrt(augmentation.MinScale);
            float scale = (float)Math.Min(1, 2 * zoom * Math.Max((double)pipeline.Width / uprightWidth, (double)pipeline.Height / uprightHeight));
            var size = codec.GetScaledDimensions(scale);
            if (TooLarge(size.Width, size.Height) is { } tooLarge) throw new ImageFileException(path, tooLarge);
            var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
            var bitmap = new SKBitmap(info);
            var result = codec.GetPixels(info, bitmap.GetPixels());
            if (result is not (SKCodecResult.Success))
            {
                bitmap.Dispose();
                throw new ImageFileException(path, result == SKCodecResult.IncompleteInput ? "is truncated (its image data ends early)" : $"could not be decoded ({Describe(result)})");
            }
            (width, height) = sideways ? (size.Height, size.Width) : (size.Width, size.Height);
            orient = Orientation(codec.EncodedOrigin, size.Width, size.Height);
            return bitmap;
        }
    }

    /// <summary>Maps stored pixel (x, y) of a w×h bitmap to where it stands upright, per the EXIF orientation tag.</summary>
    private static SKMatrix Orientation(SKEncodedOrigin origin, int w, int h) => origin switch
    {
        SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),      // mirrored
        SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),  // upside down
        SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),    // flipped
        SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),        // transposed
        SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),      // turned a quarter left: turn it right
        SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),  // transversed
        SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),    // turned a quarter right: turn it left
        _ => SKMatrix.Identity,
    };

    /// <summary>
    /// Where the upright width×height image lands on the target: the part the resize method keeps (with
    /// augmentation, a random part of it), mapped onto the whole target or, for Pad, a centred box of the
    /// same aspect; then the flip and rotation about the target's centre.
    /// </summary>
    private static SKMatrix Layout(int width, int height, ImagePipeline pipeline, ImageAugmentation? augmentation, Random? random)
    {
        double targetW = pipeline.Width, targetH = pipeline.Height;
        double srcW = width, srcH = height;
        if (pipeline.Resize == ResizeMethod.Crop)
        {
            double aspect = targetW / targetH;
            if (srcW / srcH > aspect) srcW = srcH * aspect; else srcH = srcW / aspect;
        }
        double srcX = (width - srcW) / 2, srcY = (height - srcH) / 2;
        bool flip = false;
        double degrees = 0;
        if (augmentation is not null)
        {
            double area = Uniform(random!, augmentation.MinScale, 1);
            double ratio = Math.Exp(Uniform(random!, Math.Log(3.0 / 4), Math.Log(4.0 / 3)));
            double cropW = Math.Min(srcW, srcW * Math.Sqrt(area * ratio)), cropH = Math.Min(srcH, srcH * Math.Sqrt(area / ratio));
            srcX += random!.NextDouble() * (srcW - cropW);
            srcY += random.NextDouble() * (srcH - cropH);
            (srcW, srcH) = (cropW, cropH);
            flip = augmentation.FlipHorizontal && random.NextDouble() < 0.5;
            degrees = Uniform(random, -augmentation.MaxRotate, augmentation.MaxRotate);
        }
        double dstW = targetW, dstH = targetH;
        if (pipeline.Resize == ResizeMethod.Pad)
        {
            double fit = Math.Min(targetW / srcW, targetH / srcH);
            (dstW, dstH) = (srcW * fit, srcH * fit);
        }
        double dstX = (targetW - dstW) / 2, dstY = (targetH - dstH) / 2;
        float sx = (float)(dstW / srcW), sy = (float)(dstH / srcH);
        var fitting = new SKMatrix(sx, 0, (float)(dstX - srcX * sx), 0, sy, (float)(dstY - srcY * sy), 0, 0, 1);
        if (flip) fitting = fitting.PostConcat(new SKMatrix(-1, 0, (float)targetW, 0, 1, 0, 0, 0, 1));
        if (degrees != 0) fitting = fitting.PostConcat(SKMatrix.CreateRotationDegrees((float)degrees, (float)(targetW / 2), (float)(targetH / 2)));
        return fitting;
    }

    /// <summary>RGBA bytes → <c>[C, H, W]</c> floats: scaled to [0, 1], brightness, contrast about the mean, clamped, normalized.</summary>
    private static void WriteChannels(ReadOnlySpan<byte> rgba, ImagePipeline pipeline, Span<float> destination, double brightness, double contrast)
    {
        int plane = pipeline.Width * pipeline.Height, channels = pipeline.Channels;
        const double ToUnit = 1.0 / 255;
        for (int p = 0; p < plane; p++)
        {
            byte r = rgba[4 * p], g = rgba[4 * p + 1], b = rgba[4 * p + 2];
            if (channels == 3)
            {
                destination[p] = (float)(r * ToUnit);
                destination[plane + p] = (float)(g * ToUnit);
                destination[2 * plane + p] = (float)(b * ToUnit);
            }
            else destination[p] = (float)((299 * r + 587 * g + 114 * b) / 1000.0 * ToUnit); // ITU-R 601 luma, as PIL's "L"
        }
        if (brightness != 1 || contrast != 1)
        {
            double mean = 0;
            foreach (var v in destination) mean += v;
            mean = mean * brightness / destination.Length;
            for (int i = 0; i < destination.Length; i++)
                destination[i] = (float)Math.Clamp((destination[i] * brightness - mean) * contrast + mean, 0, 1);
        }
        for (int c = 0; c < channels; c++)
        {
            float mean = (float)pipeline.Mean[c], scale = (float)(1 / pipeline.Std[c]);
            var channel = destination.Slice(c * plane, plane);
            for (int i = 0; i < channel.Length; i++) channel[i] = (channel[i] - mean) * scale;
        }
    }

    /// <summary>This thread's canvas of the target size, reused from sample to sample.</summary>
    private static SKCanvas CanvasFor(int width, int height)
    {
        if (_canvasBitmap is { } bitmap && bitmap.Width == width && bitmap.Height == height) return _canvas!;
        _canvas?.Dispose();
        _canvasBitmap?.Dispose();
        _canvasBitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        return _canvas = new SKCanvas(_canvasBitmap);
    }

    private static double Uniform(Random random, double low, double high) => low + random.NextDouble() * (high - low);

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.Unimplemented => "its format is not one SkiaSharp reads",
        SKCodecResult.InvalidInput or SKCodecResult.ErrorInInput => "its data is damaged",
        SKCodecResult.IncompleteInput => "it is truncated",
        _ => result.ToString(),
    };
}
