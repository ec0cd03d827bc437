#requires -Modules Isaacai
<#
.SYNOPSIS
    The seed tutorial's example in PowerShell: SimpleNet on Fashion-MNIST with BasicTrain, Metrics and
    Device callbacks plus one scriptblock callback, three epochs, records to the screen and a CSV.
#>
param([string] $CsvPath = './metrics.csv')

Set-IsaacSeed 42
$dls = Get-IsaacDataset FashionMNIST | New-IsaacDataLoaders -BatchSize 64

$trainer = New-IsaacTrainer -DataLoaders $dls -LossFunction CrossEntropy -Optimizer Adam `
    -Model (New-IsaacSimpleNet 784 64 10) `
    -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics -Metric Accuracy), (New-IsaacCallback Device)

# A scriptblock callback: count the training batches of each epoch.
$batches = @{}
Add-IsaacCallback $trainer after_batch { param($t) if ($t.Training) { $batches[$t.Epoch]++ } } -Name CountBatches | Out-Null

Invoke-IsaacFit $trainer -Epochs 3 | Tee-Object -Variable records | Export-Csv -Path $CsvPath -NoTypeInformation
$records | Format-Table
"Trained on $($batches[0]) batches per epoch; wrote $($records.Count) epoch records to $CsvPath."
