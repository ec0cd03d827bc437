BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    [TorchSharp.torch]::set_num_threads(1)
    # The shipped sample's first 300 train images as files in class folders, as a user's photos would be.
    $script:root = Join-Path ([IO.Path]::GetTempPath()) "isaacai-images-$([guid]::NewGuid())"
    $sample = Get-IsaacDataset
    $train = $sample['train']
    $labels = $train.Y.data[long]().ToArray()
    $script:pngs = [Isaacai.Data.Images.ImageFiles]::SaveAll($train.X, $labels, $sample.Target.Classes, "$root/png", '.png', 0.28, 0.35, 300)
    $script:jpgs = [Isaacai.Data.Images.ImageFiles]::SaveAll($train.X, $labels, $sample.Target.Classes, "$root/jpg", '.jpg', 0.28, 0.35, 300)

    function New-ImageTrainer($Dataset) {
        Set-IsaacSeed 7
        New-IsaacTrainer -DataLoaders ($Dataset | New-IsaacDataLoaders -BatchSize 32) -Model ($Dataset | New-IsaacConvNet -Channels 8, 16, 32) -LearningRate 0.01
    }
}

AfterAll { Remove-Item -Recurse -Force $root -ErrorAction Ignore }

Describe 'Import-IsaacImageDataset' {
    It 'reads a folder of class folders into a dataset that trains, from PNG and from JPEG' {
        foreach ($folder in "$root/png", "$root/jpg") {
            $ds = Import-IsaacImageDataset $folder -Size 32 -Augment
            $ds['train'].Count + $ds['valid'].Count | Should -Be 300
            $ds.Target.Classes | Should -Contain 'T-shirt_top'
            $ds.Images.Height | Should -Be 32
            $ds.Images.Channels | Should -Be 3
            $records = Invoke-IsaacFit (New-ImageTrainer $ds) -Epochs 3
            $records | Should -HaveCount 3
            # Ten classes: chance is 0.1; three augmented epochs on 240 images learn well past it.
            $records[-1].Accuracy | Should -BeGreaterThan 0.25
        }
    }

    It 'reads a CSV table of relative paths and piped-in rows alike' {
        $csv = "$root/labels.csv"
        $pngs | ForEach-Object { [pscustomobject]@{ file = [IO.Path]::GetRelativePath($root, $_); label = Split-Path (Split-Path $_) -Leaf } } | Export-Csv $csv
        $fromFile = Import-IsaacImageDataset $csv -ImageProperty file -Target label -Size 16
        $fromRows = Import-Csv $csv | Import-IsaacImageDataset -ImageProperty file -Target label -Root $root -Size 16
        $fromFile['valid'].Paths | Should -Be $fromRows['valid'].Paths
        $fromFile['valid'].Labels | Should -Be $fromRows['valid'].Labels
        $fromFile.Images | Should -Be $fromRows.Images
    }

    It 'names unreadable files in one error, or skips them with one warning, as a user sees it' {
        $bad = "$root/bad"
        Copy-Item -Recurse "$root/png" $bad
        Set-Content "$bad/Bag/broken.png" 'not an image'
        New-Item -ItemType File "$bad/Coat/empty.jpg" | Out-Null
        $result = Invoke-InNewRunspace ([scriptblock]::Create("
            `$ErrorActionPreference = 'Continue'
            `$ds = Import-IsaacImageDataset '$bad' -Size 16 -ErrorVariable failed 2>`$null
            `$skipped = Import-IsaacImageDataset '$bad' -Size 16 -SkipUnreadable -WarningVariable warned 3>`$null
            # A terminating error reaches -ErrorVariable wrapped in the exception that carries its record.
            `$record = `$failed[0].ErrorRecord
            [pscustomobject]@{ Made = `$null -ne `$ds; Error = `$record.Exception.Message; ErrorId = `$record.FullyQualifiedErrorId; Warnings = @(`$warned).Count; Warning = `"`$warned`"; Count = `$skipped['train'].Count + `$skipped['valid'].Count }"))
        $r = $result.Output[0]
        $r.Made | Should -BeFalse
        $r.ErrorId | Should -BeLike 'InvalidImageData,*'
        $r.Error | Should -Match ([regex]::Escape("$bad/Bag/broken.png"))
        $r.Error | Should -Match 'empty \(0 bytes\)'
        $r.Warnings | Should -Be 1
        $r.Warning | Should -Match 'Left out 2 of 302'
        $r.Count | Should -Be 300
    }

    It 'refuses a folder with no class folders and a missing folder with their own ErrorIds' {
        New-Item -ItemType Directory "$root/flat" | Out-Null
        { Import-IsaacImageDataset "$root/flat" } | Should -Throw -ErrorId 'InvalidImageData,*' -ExpectedMessage '*has no subfolders*'
        { Import-IsaacImageDataset "$root/nowhere" } | Should -Throw -ErrorId 'ImageFolderNotFound,*'
    }
}

Describe 'Pretrained weights on image files' {
    It 'switches the dataset to ImageNet statistics, fine-tunes from files and saves the statistics with the model' {
        $ds = Import-IsaacImageDataset "$root/png" -Size 32
        $earlier = $ds | New-IsaacDataLoaders -BatchSize 32
        $measured = $ds.Images.Mean
        $weights = Join-Path $PSScriptRoot 'fixtures/pytorch/mobilenet_v3_small-10.pt'
        $model = New-IsaacVisionModel mobilenet_v3_small -Dataset $ds -WeightsPath $weights
        $ds.Images.Mean | Should -Be 0.485, 0.456, 0.406
        $ds.Images.Std | Should -Be 0.229, 0.224, 0.225
        # Loaders made before keep what they had: a model trained through them is never fed the new statistics.
        $earlier.Images.Mean | Should -Be $measured
        $loaders = $ds | New-IsaacDataLoaders -BatchSize 32
        $loaders.Images.Mean | Should -Be 0.485, 0.456, 0.406
        Set-IsaacSeed 5
        $trainer = New-IsaacTrainer -DataLoaders $loaders -Model $model
        $records = Invoke-IsaacFit $trainer -FineTune -FreezeEpochs 1 -Epochs 1 -LearningRate 2e-3
        $records | Should -HaveCount 2
        Export-IsaacModel $trainer "$root/tuned.isaac"
        (Import-IsaacModel "$root/tuned.isaac").Images.Mean | Should -Be 0.485, 0.456, 0.406
    }
}

Describe 'Looking at an image classifier' {
    It 'names the files of the worst valid samples and draws them' {
        $ds = Import-IsaacImageDataset "$root/png" -Size 24
        $trainer = New-ImageTrainer $ds
        Invoke-IsaacFit $trainer -Epochs 1 | Out-Null
        $worst = Get-IsaacTopLoss $trainer -Count 6
        $worst | Should -HaveCount 6
        foreach ($sample in $worst) {
            $sample.Path | Should -Be $ds['valid'].Paths[$sample.Index]
            Split-Path (Split-Path $sample.Path) -Leaf | Should -Be $sample.Actual
        }
        (Get-IsaacConfusionMatrix $trainer | Measure-Object Count -Sum).Sum | Should -Be $ds['valid'].Count
        Export-IsaacPlot $trainer -Kind TopLosses -Count 6 -Path "$root/worst.png"
        "$root/worst.png" | Should -Exist
        [Isaacai.Data.Images.ImageDecoder]::Problem("$root/worst.png") | Should -BeNullOrEmpty
    }
}

Describe 'One SkiaSharp' {
    It 'serves plots and image files in one session' {
        $ds = Import-IsaacImageDataset "$root/png" -Size 16
        $trainer = New-ImageTrainer $ds
        Invoke-IsaacFit $trainer -Epochs 1 | Out-Null
        Export-IsaacPlot $trainer -Kind Loss -Path "$root/loss.png"
        # The plot ScottPlot drew decodes as an image.
        [Isaacai.Data.Images.ImageDecoder]::Problem("$root/loss.png") | Should -BeNullOrEmpty
        @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'SkiaSharp' }) | Should -HaveCount 1
        @(Get-ChildItem $env:ISAACAI_MODULE -Filter 'libSkiaSharp*') | Should -HaveCount 1
    }
}

Describe 'Image models saved and used again' {
    It 'predicts files in a new pwsh exactly as the trainer did, and a bad file is one error' {
        $ds = Import-IsaacImageDataset "$root/jpg" -Size 24 -Augment
        $trainer = New-ImageTrainer $ds
        Invoke-IsaacFit $trainer -Epochs 2 | Out-Null
        $path = "$root/fm.isaac"
        Export-IsaacModel $trainer $path
        $files = $ds['valid'].Paths | Select-Object -First 20
        $before = $files | Get-Item | Invoke-IsaacPredict -Model $trainer
        $before | Should -HaveCount 20
        $before[0].Path | Should -Be $files[0]
        $list = ($files | ForEach-Object { "'$_'" }) -join ','
        $after = Invoke-InNewProcess @"
`$model = Import-IsaacModel '$path'
@($list) | Invoke-IsaacPredict -Model `$model | ForEach-Object { @{ Path = `$_.Path; Prediction = `$_.Prediction; P = `$_.Probability.ToString('R') } } | ConvertTo-Json
"@
        $after.Path | Should -Be $before.Path
        $after.Prediction | Should -Be $before.Prediction
        $after.P | Should -Be ($before | ForEach-Object { $_.Probability.ToString('R') })

        Set-Content "$root/not-a-photo.jpg" 'text'
        # A folder among the files is one error; the files before and after it are predicted.
        $withFolder = @((Get-Item $files[0]), (Get-Item $root), (Get-Item $files[1])) | Invoke-IsaacPredict -Model $trainer -ErrorVariable folderErrors -ErrorAction SilentlyContinue
        $withFolder | Should -HaveCount 2
        $folderErrors[0].Exception.Message | Should -BeLike '*is a folder, not an image file*' 
        $mixed = @($files[0], "$root/not-a-photo.jpg", $files[1]) | Invoke-IsaacPredict -Model $trainer -ErrorVariable failed -ErrorAction SilentlyContinue
        $mixed | Should -HaveCount 2
        $failed | Should -HaveCount 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'UnreadableImage,*'
        $failed[0].TargetObject | Should -Be "$root/not-a-photo.jpg"
    }
}
