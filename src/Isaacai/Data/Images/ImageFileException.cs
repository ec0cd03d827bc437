namespace Isaacai.Data.Images;

/// <summary>An image file that cannot be read or decoded; the message names the file and what is valid.</summary>
public sealed class ImageFileException(string path, string problem, Exception? inner = null)
    : IOException($"{path}: {problem}. Readable images are {ImageDecoder.FormatNames} files.", inner)
{
    public string Path { get; } = path;
    public string Problem { get; } = problem;
}
