<#
.SYNOPSIS
    Sweeps: the wall time of 8 trials at -ThrottleLimit 1 against 2, and the epochs pruning saves.
.DESCRIPTION
    Throttle: the same random sweep (8 trials, seed 1, SimpleNet on 1000 samples per split of the shipped
    Fashion-MNIST sample, 3 epochs) at throttle 1 and throttle 2, alternating which goes first, for -Rounds
    rounds; each side's figure is the median wall time, and the ratio is taken per round. Threads per trial
    are the sweep's default: cores ÷ trials at once.
    Pruning: the same 8 trials for 4 epochs without a pruner, with successive halving (first rung 1 epoch,
    factor 2) and with the median pruner (throttle 1, so it prunes the same trials each run); the epochs each
    trained and the best value each found.
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Isaacai'),
    [int] $Rounds = 3,
    [ValidateSet('Throttle', 'Pruning')]
    [string[]] $Part = @('Throttle', 'Pruning')
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module (Join-Path $ModulePath 'Isaacai.psd1')

$trial = {
    param($p)
    $dls = Get-IsaacDataset FashionMNIST -Sample 1000 -Seed 1 | New-IsaacDataLoaders -BatchSize 64
    New-IsaacTrainer -DataLoaders $dls -Model (New-IsaacSimpleNet 784 $p.Hidden 10) -Optimizer Adam -LearningRate $p.LearningRate `
        -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics -Metric Accuracy)
}
$space = @{ LearningRate = @{ LogUniform = 1e-4, 1e-1 }; Hidden = 16, 32, 64 }

function Get-Median([double[]] $Values) { $s = $Values | Sort-Object; if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }

if ('Throttle' -in $Part) {
    $times = @{ 1 = [Collections.Generic.List[double]]::new(); 2 = [Collections.Generic.List[double]]::new() }
    $ratios = [Collections.Generic.List[double]]::new()
    for ($round = 0; $round -lt $Rounds; $round++) {
        $order = if ($round % 2) { 2, 1 } else { 1, 2 }
        foreach ($throttle in $order) {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $null = Invoke-IsaacSweep $trial $space -Trials 8 -Epochs 3 -Seed 1 -ThrottleLimit $throttle
            $times[$throttle].Add($clock.Elapsed.TotalSeconds)
        }
        $ratios.Add($times[1][-1] / $times[2][-1])
        Write-Host ('round {0}: throttle 1 {1:N1} s, throttle 2 {2:N1} s' -f $round, $times[1][-1], $times[2][-1])
}
Write-Host ('8 trials, wall time: throttle 1 {0:N1} s, throttle 2 {1:N1} s (medians of {2}); throttle 1 / throttle 2 per round, median {3:N2}' -f
    (Get-Median $times[1]), (Get-Median $times[2]), $Rounds, (Get-Median $ratios))
}

if ('Pruning' -in $Part) {
    foreach ($case in @(
            @{ Name = 'no pruner'; Arguments = @{ ThrottleLimit = 2 } },
            @{ Name = 'successive halving (1 epoch, factor 2)'; Arguments = @{ ThrottleLimit = 2; Pruner = 'SuccessiveHalving'; MinEpochs = 1; ReductionFactor = 2 } },
            @{ Name = 'median (throttle 1)'; Arguments = @{ ThrottleLimit = 1; Pruner = 'Median' } })) {
        $arguments = $case.Arguments
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $out = @(Invoke-IsaacSweep $trial $space -Trials 8 -Epochs 4 -Seed 1 -PassThru @arguments)
        $summary = $out[-1]
        Write-Host ('{0}: {1} epochs, {2} pruned, best trial {3} valid_loss {4:R}, {5:N1} s' -f $case.Name, $summary.EpochsTrained, $summary.Pruned,
            $summary.Best.Trial, $summary.Best.Value, $clock.Elapsed.TotalSeconds)
    }
}
