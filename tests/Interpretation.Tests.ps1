BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"

    # The whole shipped Fashion-MNIST sample (6,000 / 1,000) and one short epoch, as a user would start.
    Set-IsaacSeed 1
    $script:dls = Get-IsaacDataset | New-IsaacDataLoaders -BatchSize 64
    $script:validCount = $dls.Valid.Dataset.Count
    $script:trainer = New-IsaacTrainer -DataLoaders $dls -Model (New-IsaacSimpleNet 784 16 10) -LearningRate 0.01
    $script:record = Invoke-IsaacFit $trainer -ProgressAction SilentlyContinue
}

Describe 'Get-IsaacConfusionMatrix' {
    It 'gives every cell of the 10x10 matrix once, counting each valid sample once, with the fit''s accuracy on the diagonal' {
        $validCount | Should -Be 1000
        $rows = @(Get-IsaacConfusionMatrix $trainer)
        $rows.Count | Should -Be 100
        $rows | Should -BeOfType Isaacai.Interpretation.ConfusionRow
        @($rows | Select-Object Actual, Predicted -Unique).Count | Should -Be 100
        ($rows | Measure-Object Count -Sum).Sum | Should -Be $validCount
        $right = ($rows | Where-Object { $_.Actual -eq $_.Predicted } | Measure-Object Count -Sum).Sum
        $right / $validCount | Should -Be $record.Accuracy -Because 'the same model on the same split, in eval mode'
        $labels = $dls.Valid.Dataset.Y.data[long]().ToArray()
        $classes = @([Isaacai.Data.FashionMnist]::Target.Classes)
        for ($c = 0; $c -lt $classes.Count; $c++) {
            ($rows | Where-Object Actual -eq $classes[$c] | Measure-Object Count -Sum).Sum | Should -Be @($labels -eq $c).Count -Because "the valid samples of $($classes[$c])"
        }
    }

    It 'leaves out empty cells with -NonZero, and lists only wrong pairs, most frequent first, with -MostConfused' {
        $nonZero = @($trainer | Get-IsaacConfusionMatrix -NonZero)
        $nonZero.Count | Should -BeLessThan 100
        $nonZero | ForEach-Object { $_.Count | Should -BeGreaterThan 0 }
        ($nonZero | Measure-Object Count -Sum).Sum | Should -Be $validCount
        $confused = @(Get-IsaacConfusionMatrix $trainer -MostConfused -MinCount 5)
        $confused.Count | Should -BeGreaterThan 0
        $confused | ForEach-Object { $_.Actual | Should -Not -Be $_.Predicted; $_.Count | Should -BeGreaterOrEqual 5 }
        $counts = $confused | ForEach-Object Count
        ($counts | Sort-Object -Descending) -join ',' | Should -Be ($counts -join ',')
        { Get-IsaacConfusionMatrix $trainer -NonZero -MostConfused } | Should -Throw -ErrorId 'AmbiguousParameterSet,*'
    }

    It 'shows a table of Actual, Predicted and Count' {
        $text = Get-IsaacConfusionMatrix $trainer -MostConfused | Select-Object -First 2 | Format-Table | Out-String
        $text | Should -Match 'Actual\s+Predicted\s+Count'
    }
}

Describe 'Get-IsaacTopLoss' {
    It 'gives every valid sample once with -Count above the split, worst first, with consistent losses and probabilities' {
        $all = @(Get-IsaacTopLoss $trainer -Count 5000)
        $all.Count | Should -Be $validCount
        $all | Should -BeOfType Isaacai.Interpretation.TopLoss
        ($all.Index | Sort-Object) -join ',' | Should -Be ((0..($validCount - 1)) -join ',')
        @(1..($all.Count - 1) | Where-Object { $all[$_].Loss -gt $all[$_ - 1].Loss }).Count | Should -Be 0 -Because 'the worst come first'
        @($all | Where-Object Path).Count | Should -Be 0 -Because 'tensors have no files'
        ($all | ForEach-Object { [math]::Abs($_.Loss + [math]::Log($_.ActualProbability)) } | Measure-Object -Maximum).Maximum | Should -BeLessThan 1e-9
        @($all | Where-Object { $_.PredictedProbability -lt $_.ActualProbability }).Count | Should -Be 0
        @($all | Where-Object { $_.Actual -eq $_.Predicted -and $_.PredictedProbability -ne $_.ActualProbability }).Count | Should -Be 0
        @($all | Where-Object { $_.Actual -eq $_.Predicted }).Count / $validCount | Should -Be $record.Accuracy
        ($all | Measure-Object Loss -Average).Average | Should -BeGreaterThan ($record.valid_loss - 1e-4) -Because 'the mean cross-entropy is the fit''s valid loss'
        ($all | Measure-Object Loss -Average).Average | Should -BeLessThan ($record.valid_loss + 1e-4)
        $all[0].Actual | Should -Not -Be $all[0].Predicted
    }

    It 'gives nine by default, the same as the first nine of all, and shows them as a table' {
        $nine = @(Get-IsaacTopLoss $trainer)
        $nine.Count | Should -Be 9
        $nine.Index -join ',' | Should -Be ((Get-IsaacTopLoss $trainer 30 | Select-Object -First 9).Index -join ',')
        $text = $nine | Format-Table | Out-String
        $text | Should -Match 'Index\s+Actual\s+Predicted\s+Loss\s+ActualProbability\s+PredictedProbability\s+Path'
        $text | Should -Match '\d+\.\d{4}\s'
    }

    It 'leaves the model in train mode when it was, and the trainer fits after' {
        $trainer.Model.train()
        Get-IsaacTopLoss $trainer 1 | Out-Null
        $trainer.Model.training | Should -BeTrue
        Invoke-IsaacFit $trainer -ProgressAction SilentlyContinue | Should -Not -BeNullOrEmpty
    }
}

Describe 'Export-IsaacPlot of interpretations' {
    It 'writes a <Kind> PNG of the asked size with many colours' -ForEach @(
        @{ Kind = 'ConfusionMatrix'; Extra = @{}; Size = '640x480' },
        @{ Kind = 'TopLosses'; Extra = @{ Count = 6 }; Size = '500x420' }
    ) {
        $width, $height = $Size -split 'x'
        $path = Join-Path $TestDrive "$Kind.png"
        $file = Export-IsaacPlot $trainer $path -Kind $Kind -Width $width -Height $height @Extra
        $file.FullName | Should -Be $path
        Get-PngSize $path | Should -Be $Size
        Get-ColourCount $path | Should -BeGreaterThan 50
    }

    It 'writes nothing with -WhatIf, and -NoClobber keeps an existing file' {
        $path = Join-Path $TestDrive 'guarded.png'
        Export-IsaacPlot $trainer $path -Kind TopLosses -WhatIf | Should -BeNullOrEmpty
        Test-Path $path | Should -BeFalse
        Set-Content $path 'older'
        { Export-IsaacPlot $trainer $path -Kind ConfusionMatrix -NoClobber } | Should -Throw -ErrorId 'PlotFileExists,*'
        Get-Content $path | Should -Be 'older'
    }
}

Describe 'Refusals, as a user meets them' {
    It 'says once, and goes on, when the data is a regression, a table has no images to draw, or -Count has no grid' {
        $penguins = $global:PenguinsCsv
        $result = Invoke-InNewRunspace ([scriptblock]::Create(@"
`$ErrorActionPreference = 'Continue'
`$mass = Import-Csv '$penguins' | ConvertTo-IsaacDataset -Target body_mass_g -MissingValue Drop -WarningAction SilentlyContinue
`$regression = New-IsaacTrainer -DataLoaders (`$mass | New-IsaacDataLoaders) -Model (`$mass | New-IsaacMlp -HiddenSize 4)
`$species = Import-Csv '$penguins' | ConvertTo-IsaacDataset -Target species -MissingValue Drop -WarningAction SilentlyContinue
`$table = New-IsaacTrainer -DataLoaders (`$species | New-IsaacDataLoaders) -Model (`$species | New-IsaacMlp -HiddenSize 4)
`$path = Join-Path '$TestDrive' 'refused.png'
`$rows = Get-IsaacConfusionMatrix `$regression
`$losses = Get-IsaacTopLoss `$regression
Export-IsaacPlot `$regression `$path -Kind ConfusionMatrix
Export-IsaacPlot `$table `$path -Kind TopLosses
Export-IsaacPlot `$table `$path -Kind ConfusionMatrix -Count 3
`$tableLosses = Get-IsaacTopLoss `$table 2
[pscustomobject]@{
    Ids = @(`$Error | ForEach-Object FullyQualifiedErrorId); Messages = @(`$Error | ForEach-Object { `$_.Exception.Message })
    NoRows = `$null -eq `$rows; NoLosses = `$null -eq `$losses; TableLosses = @(`$tableLosses).Count; Written = (Test-Path `$path)
}
"@))
        $out = $result.Output[-1]
        [array]::Reverse($out.Ids)
        $out.Ids | Should -Be @(
            'NotAClassifier,Isaacai.PowerShell.Commands.GetIsaacConfusionMatrixCommand', 'NotAClassifier,Isaacai.PowerShell.Commands.GetIsaacTopLossCommand',
            'NotAClassifier,Isaacai.PowerShell.Commands.ExportIsaacPlotCommand', 'NoImagesToShow,Isaacai.PowerShell.Commands.ExportIsaacPlotCommand',
            'CountWithoutTopLosses,Isaacai.PowerShell.Commands.ExportIsaacPlotCommand')
        $out.Messages[-1] | Should -BeLike "*target 'body_mass_g' is a number (a regression)*"
        $out.Messages[1] | Should -BeLike "*a table's rows, not images*Get-IsaacTopLoss*"
        $out.NoRows, $out.NoLosses | Should -Be $true, $true
        $out.TableLosses | Should -Be 2 -Because 'a table''s top losses are listed, only not drawn'
        $out.Written | Should -BeFalse
    }
}
