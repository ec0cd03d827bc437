using System.Management.Automation;

namespace Isaacai.PowerShell;

/// <summary>The -Path and -NoClobber of the commands that write a file, the checks they make before writing, and the file they give back.</summary>
public abstract class FileWritingCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>
    /// The full path to write once -NoClobber and ShouldProcess allow it, <paramref name="what"/> saying what
    /// goes in ("a checkpoint after 3 epoch(s)"); null under -WhatIf or when the user says no. An existing
    /// file under -NoClobber is a terminating error with <paramref name="existsErrorId"/>.
    /// </summary>
    protected string? ConfirmWrite(string what, string existsErrorId)
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        bool exists = File.Exists(path);
        if (exists && NoClobber)
            ThrowTerminatingError(new ErrorRecord(new IOException($"{path} exists, and -NoClobber forbids overwriting it."), existsErrorId, ErrorCategory.ResourceExists, path));
        return ShouldProcess(path, $"{(exists ? "Overwrite with" : "Write")} {what}") ? path : null;
    }

    /// <summary>
    /// The file written, as Get-Item gives it (through the FileSystem provider: its mode, owner and size show in the
    /// default view, and it has a PSPath); a bare FileInfo shows blanks there.
    /// </summary>
    // Force: without it the provider skips a hidden file (on Linux, any name starting with a dot) even by its literal path.
    internal static object WrittenFile(PSCmdlet cmdlet, string path) =>
        cmdlet.InvokeProvider.Item.Get([path], true, true).FirstOrDefault() ?? (object)new FileInfo(path);
}
