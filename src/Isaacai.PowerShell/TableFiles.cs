using System.Management.Automation;

namespace Isaacai.PowerShell;

/// <summary>The -Path of the commands that read a table file (ConvertTo-IsaacDataset, Invoke-IsaacPredict).</summary>
internal static class TableFiles
{
    /// <summary>The full path of <paramref name="path"/> (relative to the current location); a terminating error when there is no such file.</summary>
    public static string Existing(PSCmdlet cmdlet, string path)
    {
        var full = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
        if (!File.Exists(full))
            cmdlet.ThrowTerminatingError(new ErrorRecord(new FileNotFoundException(Directory.Exists(full) ? $"{full} is a folder; give a .csv, .tsv or .parquet file." : $"There is no file {full}.", full),
                "TableFileNotFound", ErrorCategory.ObjectNotFound, full));
        return full;
    }
}
