namespace Isaacai.PowerShell.Sweeps;

/// <summary>
/// The script a trial runs in its own process (a local pwsh, or one over SSH): loads the module, sets the
/// threads and the trial's seed, builds the trainer with the user's trial script, fits it with a
/// <see cref="Isaacai.Callbacks.SweepTrialCB"/>, and reports: 'start' (its process id), one 'epoch' per epoch,
/// then 'end' (the monitored values, and the checkpoint and model it wrote when asked).
/// </summary>
internal static class SweepWorker
{
    public const string Script = """
        param(
            [string] $ModulePath, [string] $TrialScript, [hashtable] $Parameters, [int] $Seed, [int] $Threads, [int] $Slots,
            [int] $Epochs, [string] $Monitor, [string] $Mode, [int] $PrunerStartup, [int] $PrunerWarmup, [string] $Completed,
            [string] $Resume, [string] $Location, [string] $WorkFolder, [string] $TrialName, [bool] $SaveCheckpoint, [bool] $ExportModel)
        $ErrorActionPreference = 'Stop'
        $ProgressPreference = 'SilentlyContinue'
        [pscustomobject]@{ Kind = 'start'; Pid = $PID }
        Import-Module $ModulePath
        # libtorch's threads are per process: the host's cores shared among the trials it runs at once.
        if ($Threads -lt 1) { $Threads = [math]::Max(1, [math]::Floor([Environment]::ProcessorCount / $Slots)) }
        Set-IsaacThreads $Threads
        if ($Location) { Set-Location -LiteralPath $Location }
        Set-IsaacSeed $Seed
        $made = @(& ([scriptblock]::Create($TrialScript)) $Parameters)
        $trainer = @($made | Where-Object { $_ -is [Isaacai.Trainer] })
        if ($trainer.Count -ne 1) {
            throw "The trial script must return the trainer it built (New-IsaacTrainer), not yet fitted; it returned $($made.Count) object(s), $($trainer.Count) of them trainers."
        }
        $trainer = $trainer[0]
        $peers = $null   # assigned, not taken from an if's output, which would unroll a one-trial array
        if ($Completed) { $peers = [System.Text.Json.JsonSerializer]::Deserialize($Completed, [double[][]]) }
        $pruner = if ($PrunerStartup -gt 0) { [Isaacai.Sweeps.MedianPruner]::new($PrunerStartup, $PrunerWarmup) } else { $null }
        $watch = [Isaacai.Callbacks.SweepTrialCB]::new($Monitor, [Isaacai.Callbacks.MonitorMode]$Mode, $pruner, $peers)
        $null = Add-IsaacCallback $trainer -Callback $watch
        $fit = @{ Epochs = $Epochs }
        if ($Resume) { $fit.Resume = $Resume }
        Invoke-IsaacFit $trainer @fit | ForEach-Object { [pscustomobject]@{ Kind = 'epoch'; Epoch = $_.epoch } }
        $checkpoint = $model = $null
        if ($SaveCheckpoint -or $ExportModel) { $null = New-Item -ItemType Directory -Force -Path $WorkFolder }
        if ($SaveCheckpoint -and $null -eq $watch.Failure) {
            $checkpoint = Join-Path $WorkFolder "$TrialName-$($Epochs).isaacckpt"
            Save-IsaacCheckpoint $trainer $checkpoint -Confirm:$false
        }
        if ($ExportModel -and $null -eq $watch.Failure) {
            $model = Join-Path $WorkFolder "$TrialName.isaac"
            Export-IsaacModel $trainer $model -Confirm:$false
        }
        if ($Resume) { Remove-Item -LiteralPath $Resume }
        [pscustomobject]@{ Kind = 'end'; Values = [double[]]$watch.Values; Pruned = $null -ne $watch.PrunedEpoch; Failure = $watch.Failure; Checkpoint = $checkpoint; Model = $model }
        """;
}
