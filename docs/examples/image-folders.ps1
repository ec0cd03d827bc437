#requires -Modules Isaacai
<#
.SYNOPSIS
    Your own images, end to end: a folder of class folders → a dataset → a ConvNet and a resnet18 trained
    from the files → the model saved → predictions on files in a new session's way → the worst mistakes.
    The "photos" are the shipped Fashion-MNIST sample written as PNG files (6,000 train, 1,000 valid).
#>
param([string] $Folder = (Join-Path ([IO.Path]::GetTempPath()) 'isaacai-clothes'), [int] $Epochs = 4)

# The sample as files in train/ and valid/ folders of class folders, as a user's photos would be laid out.
if (-not (Test-Path $Folder)) {
    $sample = Get-IsaacDataset
    foreach ($split in @{ train = 'train'; valid = 'test' }.GetEnumerator()) {
        $data = $sample[$split.Value]
        $null = [Isaacai.Data.Images.ImageFiles]::SaveAll($data.X, $data.Y.data[long]().ToArray(), $sample.Target.Classes,
            (Join-Path $Folder $split.Key), '.png', [Isaacai.Data.FashionMnist]::Mean, [Isaacai.Data.FashionMnist]::Std)
    }
}

$results = foreach ($model in 'ConvNet', 'resnet18') {
    Set-IsaacSeed 42
    $ds = Import-IsaacImageDataset $Folder -Size 32 -Channels 1 -Augment
    $net = if ($model -eq 'ConvNet') { $ds | New-IsaacConvNet } else { New-IsaacVisionModel resnet18 -Dataset $ds }
    $trainer = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 64) -Model $net
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $records = Invoke-IsaacFit $trainer -Epochs $Epochs -OneCycle -LearningRate 0.01
    [pscustomobject]@{
        Model = $model; Epochs = $Epochs; Accuracy = $records[-1].Accuracy; ValidLoss = $records[-1].valid_loss
        Seconds = [math]::Round($clock.Elapsed.TotalSeconds, 1); Trainer = $trainer
    }
}
$results | Format-Table Model, Epochs, Accuracy, ValidLoss, Seconds

$best = $results | Sort-Object Accuracy -Descending | Select-Object -First 1
$path = Join-Path $Folder 'clothes.isaac'
Export-IsaacModel $best.Trainer $path
$model = Import-IsaacModel $path
Get-ChildItem (Join-Path $Folder 'valid/Bag') -Filter *.png | Select-Object -First 5 | Invoke-IsaacPredict -Model $model |
    Format-Table @{ n = 'File'; e = { Split-Path $_.Path -Leaf } }, Prediction, Probability
Get-IsaacConfusionMatrix $best.Trainer -MostConfused -MinCount 10 | Format-Table
