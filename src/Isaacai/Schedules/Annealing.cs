namespace Isaacai.Schedules;

/// <summary>Curves from a start value to an end value as progress goes from 0 to 1.</summary>
public static class Annealing
{
    /// <summary>Half a cosine: flat at both ends, as fastai's one-cycle uses.</summary>
    public static double Cosine(double start, double end, double progress) =>
        start + (1 - Math.Cos(Math.PI * Math.Clamp(progress, 0, 1))) * (end - start) / 2;

    /// <summary>Exponential: equal ratios in equal steps, as an LR range test sweeps.</summary>
    public static double Exponential(double start, double end, double progress) =>
        start * Math.Pow(end / start, Math.Clamp(progress, 0, 1));
}
