<#
.SYNOPSIS
    Invoke-IsaacFit against a bare TorchSharp loop, both in one PowerShell session, as a paired ratio.
.DESCRIPTION
    The SimpleNet job: 784-64-10 on the full Fashion-MNIST (60,000 train, 10,000 valid), Adam 1e-3, batch 64, torch at
    one thread, -Epochs epochs with a valid pass each. One side is Invoke-IsaacFit on a trainer made by New-IsaacTrainer
    with its defaults (BasicTrain, Metrics, Device; the flat Adam); the other is the loop a TorchSharp user writes by hand
    (bench/Isaacai.Bench/HandLoop.cs: shuffle, forward, loss, backward, TorchSharp's Adam step, zero_grad; valid loss and
    accuracy). The sides alternate, pair after pair, which goes first alternating too; the figure is the median of the
    pairs' ratios hand/Invoke-IsaacFit (above 1: Invoke-IsaacFit is faster). Also prints the fraction of the compute limit
    each side reaches: 3 × 2 × 50,816 multiply-adds per training sample (forward and two backward products) against the
    single-thread fp32 rate of a 1024³ matmul measured here.
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Isaacai'),
    [string] $BenchDll = (Join-Path $PSScriptRoot 'Isaacai.Bench/bin/Release/net10.0/linux-x64/Isaacai.Bench.dll'),
    [int] $Pairs = 15,
    [int] $Epochs = 1
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'Isaacai.psd1')
Add-Type -Path $BenchDll
Set-IsaacThreads 1
$data = [Isaacai.Data.FashionMnist]::Load()
$trainSamples = $data['train'].Count

function Measure-Seconds([scriptblock] $Work) { $clock = [Diagnostics.Stopwatch]::StartNew(); & $Work | Out-Null; $clock.Elapsed.TotalSeconds }
function New-Trainer([string] $Optimizer = 'Adam') {
    Set-IsaacSeed 1
    New-IsaacTrainer -DataLoaders (New-IsaacDataLoaders $data -BatchSize 64) -Model (New-IsaacSimpleNet 784 64 10) -LossFunction CrossEntropy -Optimizer $Optimizer -LearningRate 1e-3
}
function Invoke-Cmdlet { $trainer = New-Trainer; Measure-Seconds { Invoke-IsaacFit $trainer -Epochs $Epochs } }
function Invoke-Hand {
    Set-IsaacSeed 1
    $model = New-IsaacSimpleNet 784 64 10
    Measure-Seconds { [Isaacai.Bench.HandLoop]::Fit($model, $data, 64, $Epochs, 1e-3) }
}
. (Join-Path $PSScriptRoot 'BenchStatistics.ps1')

Invoke-Cmdlet | Out-Null; Invoke-Hand | Out-Null # warm-up: JIT and allocator
$cmdlet = [Collections.Generic.List[double]]::new(); $hand = [Collections.Generic.List[double]]::new()
foreach ($pair in 1..$Pairs) {
    if ($pair % 2) { $cmdlet.Add((Invoke-Cmdlet)); $hand.Add((Invoke-Hand)) }
    else { $hand.Add((Invoke-Hand)); $cmdlet.Add((Invoke-Cmdlet)) }
}
$ratios = for ($i = 0; $i -lt $Pairs; $i++) { $hand[$i] / $cmdlet[$i] }

# The compute limit: a 1024³ matmul's rate at one thread, best of 5.
$a = [TorchSharp.torch]::randn(1024, 1024); $b = [TorchSharp.torch]::randn(1024, 1024)
$matmul = (1..5 | ForEach-Object { Measure-Seconds { $a.matmul($b).Dispose() } } | Measure-Object -Minimum).Minimum
$flopsPerSecond = 2 * [math]::Pow(1024, 3) / $matmul
$trainFlops = 3 * 2 * 50816 * $trainSamples * $Epochs # the valid pass is left out: a lower bound for both sides
$fraction = { param($seconds) $trainFlops / $seconds / $flopsPerSecond }
Write-Host ("SimpleNet job (Fashion-MNIST, {0} epoch(s) + valid, batch 64, Adam, 1 thread): Invoke-IsaacFit {1:F2} s, bare TorchSharp loop {2:F2} s; hand/Invoke-IsaacFit {3:F3}, median of {4} alternating pairs (target >= 1.25)" -f `
    $Epochs, (Median $cmdlet), (Median $hand), (Median $ratios), $Pairs)
Write-Host ("  compute limit here {0:F0} GFLOP/s (1024³ matmul, 1 thread): Invoke-IsaacFit reaches {1:P1} of it, the bare loop {2:P1}" -f `
    ($flopsPerSecond / 1e9), (& $fraction (Median $cmdlet)), (& $fraction (Median $hand)))
# The same seed with the flat Adam and with TorchSharp's: the accuracy must agree to 3 decimals.
$accuracy = foreach ($optimizer in 'Adam', 'TorchSharp.Adam') { (Invoke-IsaacFit (New-Trainer $optimizer) -Epochs $Epochs)[-1].Accuracy }
Write-Host ("  same seed: accuracy {0:F4} with the flat Adam, {1:F4} with TorchSharp's ({2})" -f $accuracy[0], $accuracy[1], $(if ([math]::Round($accuracy[0], 3) -eq [math]::Round($accuracy[1], 3)) { 'equal to 3 decimals' } else { 'DIFFERENT' }))
Write-Host ("  pairs (Invoke-IsaacFit s, hand s): " + (@(for ($i = 0; $i -lt $Pairs; $i++) { '({0:F2}, {1:F2})' -f $cmdlet[$i], $hand[$i] }) -join ' '))
