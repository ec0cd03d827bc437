BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"

    $tracked = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics -Metric Accuracy), (New-IsaacCallback Tracking)
    Invoke-IsaacFit $tracked -Epochs 2 -ProgressAction SilentlyContinue | Out-Null
}

Describe 'Export-IsaacPlot' {
    It 'writes a <Kind> plot as a PNG of the asked size, with many colours, and returns the file' -ForEach @(
        @{ Kind = 'Loss' }, @{ Kind = 'Metrics' }, @{ Kind = 'LearningRate' }
    ) {
        $path = Join-Path $TestDrive "$Kind.png"
        $file = Export-IsaacPlot $tracked $path -Kind $Kind -Width 640 -Height 360
        $file | Should -BeOfType System.IO.FileInfo
        $file.FullName | Should -Be $path
        $file.PSPath | Should -Not -BeNullOrEmpty -Because 'it comes through the provider, as Get-Item''s files do'
        Get-PngSize $path | Should -Be '640x360'
        Get-ColourCount $path | Should -BeGreaterThan 50
    }

    It 'draws a loss plot by default at 800x500, to a path relative to the current location' {
        Push-Location $TestDrive
        try { Export-IsaacPlot $tracked 'relative.png' | Out-Null }
        finally { Pop-Location }
        Get-PngSize (Join-Path $TestDrive 'relative.png') | Should -Be '800x500'
    }

    It 'writes nothing with -WhatIf, and -NoClobber refuses to overwrite' {
        $path = Join-Path $TestDrive 'guarded.png'
        Export-IsaacPlot $tracked $path -WhatIf | Should -BeNullOrEmpty
        Test-Path $path | Should -BeFalse
        Export-IsaacPlot $tracked $path | Out-Null
        $before = (Get-FileHash $path).Hash
        { Export-IsaacPlot $tracked $path -Kind Metrics -NoClobber } | Should -Throw -ErrorId 'PlotFileExists,*'
        (Get-FileHash $path).Hash | Should -Be $before
        Export-IsaacPlot $tracked $path -Kind Metrics | Out-Null
        (Get-FileHash $path).Hash | Should -Not -Be $before
        @(Get-ChildItem $TestDrive -Filter '*.partial' -Force).Count | Should -Be 0
    }

    It 'says what to add when the trainer has no TrackingCB, or has not fitted yet' {
        $untracked = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        Invoke-IsaacFit $untracked -ProgressAction SilentlyContinue | Out-Null
        $path = Join-Path $TestDrive 'none.png'
        { Export-IsaacPlot $untracked $path } | Should -Throw -ErrorId 'NothingToPlot,*' -ExpectedMessage '*no TrackingCB*New-IsaacCallback Tracking*'
        $unfitted = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Tracking)
        { Export-IsaacPlot $unfitted $path -Kind LearningRate } | Should -Throw -ErrorId 'NothingToPlot,*' -ExpectedMessage '*Run a fit*'
        Test-Path $path | Should -BeFalse
    }

    It 'plots every kind for a default trainer, whose MetricsCB and TrackingCB record them' {
        $plain = New-IsaacTrainer -DataLoaders (New-IsaacDataLoaders $global:IsaacTestData -BatchSize 16) -Model (New-IsaacSimpleNet 784 8 10) -LearningRate 0.1
        Invoke-IsaacFit $plain -Epochs 2 -ProgressAction SilentlyContinue | Out-Null
        foreach ($kind in 'Metrics', 'Loss', 'LearningRate') {
            $path = Join-Path $TestDrive "default-$kind.png"
            Export-IsaacPlot $plain $path -Kind $kind | Out-Null
            Get-ColourCount $path | Should -BeGreaterThan 50 -Because $kind
        }
    }

    It 'refuses a size outside 100 to 10000 pixels, and a missing folder, with one error each' {
        { Export-IsaacPlot $tracked (Join-Path $TestDrive 'small.png') -Width 50 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Export-IsaacPlot $tracked (Join-Path $TestDrive 'no/such/folder/x.png') } | Should -Throw -ErrorId 'PlotNotWritten,*'
    }

    It 'renders in a new pwsh session after a real fit on the Fashion-MNIST sample (SkiaSharp''s natives load from the module)' {
        $path = Join-Path $TestDrive 'fresh.png'
        $result = Invoke-InNewProcess @"
`$dls = Get-IsaacDataset -Sample 64 -Seed 2 | New-IsaacDataLoaders -BatchSize 16
`$t = New-IsaacTrainer -DataLoaders `$dls -LossFunction CrossEntropy -Optimizer Adam -Model (New-IsaacSimpleNet 784 16 10) -LearningRate 0.01 ``
    -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics -Metric Accuracy), (New-IsaacCallback Tracking)
Invoke-IsaacFit `$t -Epochs 2 -ProgressAction SilentlyContinue | Out-Null
`$file = Export-IsaacPlot `$t '$path' -Width 400 -Height 300
`$loaded = [AppDomain]::CurrentDomain.GetAssemblies().GetName().Name -contains 'SkiaSharp'
@{ Length = `$file.Length; SkiaSharp = `$loaded } | ConvertTo-Json -Compress
"@
        $result.SkiaSharp | Should -BeTrue
        $result.Length | Should -BeGreaterThan 5000
        Get-PngSize $path | Should -Be '400x300'
    }
}
