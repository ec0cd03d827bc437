<#
.SYNOPSIS
    Isaacai against PyTorch 1.13 on the same work, as paired ratios in one run: resnet18 training steps, or the ConvNet job.
.DESCRIPTION
    Each side runs in a process of its own, torch at one thread; the sides alternate, pair after pair (which goes
    first alternates too), and each figure is the median of the pairs' ratios PyTorch/Isaacai (above 1: Isaacai is
    faster). The PyTorch side is Debian's python3-torch with libopenblas0-pthread; OPENBLAS_CORETYPE and
    OPENBLAS_L2_SIZE are unset for its command only. Skipped, with the reason, where that Python has no torch.

    -Case resnet18: TorchVision's resnet18 (10 classes) on one batch of 64 random 3×64×64 images, Adam 1e-3; the
    median time of a training step.
    -Case convnet: New-IsaacConvNet's default ConvNet fitted on Fashion-MNIST for one epoch and validated (batch 64,
    Adam 1e-3): Invoke-IsaacFit in a fresh pwsh (the module built into -ModulePath) against a plain PyTorch loop, then
    Isaacai with TorchSharp's Adam (the same seed must give the same accuracy), then forward, backward and step times
    on one batch, side by side.
#>
param(
    [ValidateSet('resnet18', 'convnet')] [string] $Case = 'resnet18',
    [string] $BenchDll = (Join-Path $PSScriptRoot 'Isaacai.Bench/bin/Release/net10.0/linux-x64/Isaacai.Bench.dll'),
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Isaacai'),
    [int] $Pairs = 5,
    [int] $Steps = 10
)
$ErrorActionPreference = 'Stop'
$python = '/usr/bin/python3'
& $python -c 'import torch, torchvision' 2>$null
if ($LASTEXITCODE -ne 0) { Write-Host "$Case against PyTorch: skipped ($python has no torch and torchvision: apt-get install python3-torch python3-torchvision libopenblas0-pthread)."; return }

function Invoke-Side([string] $Side, [string[]] $Isaacai, [string[]] $PyTorch) {
    $lines = if ($Side -eq 'isaacai' -and $Isaacai[0] -eq 'pwsh') { & dotnet pwsh -NoProfile -NonInteractive -Command $Isaacai[1] }
    elseif ($Side -eq 'isaacai') { & dotnet $BenchDll @Isaacai 2>$null }
    else { & env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $python @PyTorch }
    if ($LASTEXITCODE -ne 0) { throw "The $Side side failed with exit code $LASTEXITCODE." }
    @($lines)[-1] | ConvertFrom-Json
}
. (Join-Path $PSScriptRoot 'BenchStatistics.ps1')

# Pairs of runs, alternating which side goes first; each side's results in order.
function Invoke-Pairs([string[]] $Isaacai, [string[]] $PyTorch) {
    $isaac = [System.Collections.Generic.List[object]]::new(); $torch = [System.Collections.Generic.List[object]]::new()
    foreach ($pair in 1..$Pairs) {
        if ($pair % 2) { $isaac.Add((Invoke-Side isaacai $Isaacai $PyTorch)); $torch.Add((Invoke-Side pytorch $Isaacai $PyTorch)) }
        else { $torch.Add((Invoke-Side pytorch $Isaacai $PyTorch)); $isaac.Add((Invoke-Side isaacai $Isaacai $PyTorch)) }
    }
    [pscustomobject]@{ Isaacai = $isaac.ToArray(); PyTorch = $torch.ToArray() }
}

if ($Case -eq 'resnet18') {
    $runs = Invoke-Pairs @('resnet18-step', '--steps', $Steps, '--warmup', 2) @((Join-Path $PSScriptRoot 'peers/resnet18_train_step.py'), '--steps', $Steps, '--warmup', 2)
    $isaac, $torch = $runs.Isaacai, $runs.PyTorch
    $ratios = for ($i = 0; $i -lt $Pairs; $i++) { $torch[$i].seconds_per_step / $isaac[$i].seconds_per_step }
    $i = Median $isaac.seconds_per_step; $t = Median $torch.seconds_per_step
    Write-Host ("resnet18, 64 × 3×64×64, Adam, 1 thread: Isaacai {0:F0} images/s ({1:F3} s a step), PyTorch 1.13 {2:F0} images/s ({3:F3} s); PyTorch/Isaacai time {4:F3}, median of {5} alternating pairs (target >= 1.0)" -f (64 / $i), $i, (64 / $t), $t, (Median $ratios), $Pairs)
    return
}

# Isaacai's side as a user runs it: Invoke-IsaacFit in a fresh pwsh that imports the module (New-IsaacTrainer's
# defaults: BasicTrain, Metrics, Device callbacks).
function Get-PwshFit([string] $Optimizer) {
    "`$ErrorActionPreference = 'Stop'; Import-Module '$ModulePath/Isaacai.psd1'; Set-IsaacThreads 1; Set-IsaacSeed 1
`$data = [Isaacai.Data.FashionMnist]::Load()
`$trainer = New-IsaacTrainer -DataLoaders (New-IsaacDataLoaders `$data -BatchSize 64) -Model (New-IsaacConvNet -InputChannels 1 -OutputSize 10) -LossFunction CrossEntropy -Optimizer $Optimizer -LearningRate 1e-3
`$clock = [Diagnostics.Stopwatch]::StartNew(); `$record = Invoke-IsaacFit `$trainer -Epochs 1
@{ side = 'isaacai'; optimizer = '$Optimizer'; seconds = `$clock.Elapsed.TotalSeconds; accuracy = `$record[-1].Accuracy } | ConvertTo-Json -Compress"
}
$runs = Invoke-Pairs @('pwsh', (Get-PwshFit Adam)) @((Join-Path $PSScriptRoot 'peers/convnet_fit.py'))
$isaac, $torch = $runs.Isaacai, $runs.PyTorch
$ratios = for ($i = 0; $i -lt $Pairs; $i++) { $torch[$i].seconds / $isaac[$i].seconds }
Write-Host ("ConvNet job (Fashion-MNIST, 1 epoch + valid, batch 64, Adam, 1 thread): Invoke-IsaacFit {0:F2} s, PyTorch 1.13 {1:F2} s; PyTorch/Isaacai time {2:F3}, median of {3} alternating pairs (target >= 1.0)" -f `
    (Median $isaac.seconds), (Median $torch.seconds), (Median $ratios), $Pairs)
Write-Host ("  accuracy: Isaacai (flat Adam) {0:F4}, PyTorch {1:F4}" -f $isaac[0].accuracy, (Median $torch.accuracy))
$reference = Invoke-Side isaacai @('pwsh', (Get-PwshFit TorchSharp.Adam)) @()
Write-Host ("  same seed with TorchSharp's Adam: accuracy {0:F4} ({1})" -f $reference.accuracy, $(if ([math]::Round($reference.accuracy, 3) -eq [math]::Round($isaac[0].accuracy, 3)) { 'equal to 3 decimals' } else { 'DIFFERENT' }))
$runs = Invoke-Pairs @('convnet-step') @((Join-Path $PSScriptRoot 'peers/convnet_train_step.py'))
$isaac, $torch = $runs.Isaacai, $runs.PyTorch
Write-Host '  one batch (ms, medians of 200 steps, median of the pairs):'
Write-Host '  | phase | Isaacai | PyTorch 1.13 |'
Write-Host '  | --- | ---: | ---: |'
foreach ($phase in 'forward', 'backward', 'step') {
    Write-Host ("  | {0} | {1:F2} | {2:F2} |" -f $phase, (Median $isaac."$($phase)_ms"), (Median $torch."$($phase)_ms"))
}
