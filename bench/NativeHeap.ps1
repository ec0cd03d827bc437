<#
.SYNOPSIS
    The module's native heap setting against glibc's defaults: a ConvNet fit in pwsh, each side in fresh processes.
.DESCRIPTION
    Each run is a fresh pwsh that imports the module from -ModulePath and fits New-IsaacConvNet on the shipped sample
    (6,000 / 1,000 images, batch 64, Adam 1e-3, torch at 1 thread) for -Epochs epochs, timing the fit and counting the
    minor page faults of each batch (from /proc/self/stat, after each batch). glibc's side runs with
    MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ set to glibc's defaults (128 KB), which the module then leaves
    alone. The sides alternate, pair after pair; the figures are medians, and the ratio is the median of the pairs'.
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Isaacai'),
    [int] $Pairs = 5,
    [int] $Epochs = 2
)
$ErrorActionPreference = 'Stop'
$fit = @"
`$ErrorActionPreference = 'Stop'; Import-Module '$ModulePath/Isaacai.psd1'; Set-IsaacThreads 1; Set-IsaacSeed 1
`$faults = [System.Collections.Generic.List[long]]::new()
`$data = Get-IsaacDataset
`$trainer = New-IsaacTrainer -DataLoaders (`$data | New-IsaacDataLoaders -BatchSize 64) -Model (`$data | New-IsaacConvNet)
`$null = Add-IsaacCallback `$trainer -Hook after_batch -ScriptBlock { `$faults.Add([long]([IO.File]::ReadAllText('/proc/self/stat') -replace '^.*\) ' -split ' ')[7]) }
`$clock = [Diagnostics.Stopwatch]::StartNew(); `$null = Invoke-IsaacFit `$trainer -Epochs $Epochs; `$seconds = `$clock.Elapsed.TotalSeconds
`$perBatch = @(for (`$i = 1; `$i -lt `$faults.Count; `$i++) { `$faults[`$i] - `$faults[`$i - 1] }) | Sort-Object
@{ seconds = `$seconds; faults = `$perBatch[[int](`$perBatch.Count / 2)]; heap = (Get-IsaacEnvironment).NativeHeap } | ConvertTo-Json -Compress
"@
function Invoke-Fit([bool] $Glibc) {
    foreach ($name in 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_') { [Environment]::SetEnvironmentVariable($name, $(if ($Glibc) { '131072' } else { [NullString]::Value })) }
    try { $json = & dotnet pwsh -NoProfile -NonInteractive -Command $fit; if ($LASTEXITCODE -ne 0) { throw "A fit failed: $json" }; @($json)[-1] | ConvertFrom-Json }
    finally { foreach ($name in 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_') { [Environment]::SetEnvironmentVariable($name, [NullString]::Value) } }
}
. (Join-Path $PSScriptRoot 'BenchStatistics.ps1')
$tuned = [Collections.Generic.List[object]]::new(); $glibc = [Collections.Generic.List[object]]::new()
foreach ($pair in 1..$Pairs) {
    if ($pair % 2) { $tuned.Add((Invoke-Fit $false)); $glibc.Add((Invoke-Fit $true)) }
    else { $glibc.Add((Invoke-Fit $true)); $tuned.Add((Invoke-Fit $false)) }
}
$ratios = for ($i = 0; $i -lt $Pairs; $i++) { $glibc[$i].seconds / $tuned[$i].seconds }
Write-Host ("ConvNet on the shipped sample in pwsh, {0} epochs, 1 thread: module's heap setting {1:F2} s ({2} page faults a batch), glibc's defaults {3:F2} s ({4} a batch); glibc/module time {5:F2}, median of {6} alternating pairs" -f `
    $Epochs, (Median $tuned.seconds), (Median $tuned.faults), (Median $glibc.seconds), (Median $glibc.faults), (Median $ratios), $Pairs)
Write-Host ("  settings: '{0}' / '{1}'" -f $tuned[0].heap, $glibc[0].heap)
