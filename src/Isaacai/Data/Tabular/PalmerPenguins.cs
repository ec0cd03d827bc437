namespace Isaacai.Data.Tabular;

/// <summary>
/// The Palmer penguins (Gorman, Williams and Fraser 2014; CC0), shipped with the library: 344 penguins of
/// three species, with islands, bill and flipper sizes, body mass, sex and year, and a few missing values.
/// </summary>
public static class PalmerPenguins
{
    public static string CsvPath => Path.Combine(
        Path.GetDirectoryName(typeof(PalmerPenguins).Assembly.Location) ?? AppContext.BaseDirectory, "datasets", "palmer-penguins", "penguins.csv");

    public static TabularTable Load() => TabularTable.ReadCsv(CsvPath);
}
