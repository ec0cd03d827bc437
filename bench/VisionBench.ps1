<#
.SYNOPSIS
    resnet18 training steps in Isaacai against PyTorch 1.13, as a paired ratio in one run.
.DESCRIPTION
    Both sides train TorchVision's resnet18 (10 classes) on one batch of 64 random 3×64×64 images with Adam 1e-3
    and cross-entropy, torch at one thread, each in a process of its own that times its steps after a warm-up and
    prints the median. The sides alternate, pair after pair (which goes first alternates too), and the figure is
    the median of the pairs' ratios PyTorch/Isaacai (above 1: Isaacai is faster). The PyTorch side is Debian's
    python3-torch with libopenblas0-pthread; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for its command only.
    Skipped, with the reason, where that Python has no torch.
#>
param(
    [string] $BenchDll = (Join-Path $PSScriptRoot 'Isaacai.Bench/bin/Release/net10.0/linux-x64/Isaacai.Bench.dll'),
    [int] $Pairs = 5,
    [int] $Steps = 10
)
$ErrorActionPreference = 'Stop'
$python = '/usr/bin/python3'
& $python -c 'import torch, torchvision' 2>$null
if ($LASTEXITCODE -ne 0) { Write-Host "resnet18 against PyTorch: skipped ($python has no torch and torchvision: apt-get install python3-torch python3-torchvision libopenblas0-pthread)."; return }

function Invoke-Side([string] $Side) {
    $line = if ($Side -eq 'isaacai') { & dotnet $BenchDll resnet18-step --steps $Steps --warmup 2 }
    else { & env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $python (Join-Path $PSScriptRoot 'peers/resnet18_train_step.py') --steps $Steps --warmup 2 }
    if ($LASTEXITCODE -ne 0) { throw "The $Side side failed with exit code $LASTEXITCODE." }
    (@($line)[-1] | ConvertFrom-Json).seconds_per_step
}

$isaac = [System.Collections.Generic.List[double]]::new(); $torch = [System.Collections.Generic.List[double]]::new()
foreach ($pair in 1..$Pairs) {
    if ($pair % 2) { $isaac.Add((Invoke-Side isaacai)); $torch.Add((Invoke-Side pytorch)) }
    else { $torch.Add((Invoke-Side pytorch)); $isaac.Add((Invoke-Side isaacai)) }
}
function Median($values) { @($values | Sort-Object)[[int][math]::Floor($values.Count / 2)] }
$ratios = for ($i = 0; $i -lt $Pairs; $i++) { $torch[$i] / $isaac[$i] }
$batch = 64
Write-Host ("resnet18, 64 × 3×64×64, Adam, 1 thread: Isaacai {0:F0} images/s ({1:F3} s a step), PyTorch 1.13 {2:F0} images/s ({3:F3} s); PyTorch/Isaacai time {4:F3}, median of {5} alternating pairs (target >= 1.0)" -f `
    ($batch / (Median $isaac)), (Median $isaac), ($batch / (Median $torch)), (Median $torch), (Median $ratios), $Pairs)
Write-Host ("  pairs (Isaacai s, PyTorch s): " + (@(for ($i = 0; $i -lt $Pairs; $i++) { '({0:F3}, {1:F3})' -f $isaac[$i], $torch[$i] }) -join ' '))
