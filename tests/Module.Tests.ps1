BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:module = Get-Module Isaacai
    $script:cmdletTypes = [Isaacai.PowerShell.Commands.InvokeIsaacFitCommand].Assembly.GetTypes() | Where-Object { $_.Namespace -eq 'Isaacai.PowerShell.Commands' -and $_.IsPublic }
}

Describe 'The module' {
    It 'is imported from out/ and exports exactly the listed commands' {
        $module.ModuleBase | Should -Be $env:ISAACAI_MODULE
        $module.ExportedCmdlets.Keys | Sort-Object | Should -Be @('Add-IsaacCallback', 'ConvertTo-IsaacDataset', 'Export-IsaacModel', 'Export-IsaacPlot', 'Find-IsaacLearningRate', 'Get-IsaacCallback',
            'Get-IsaacConfusionMatrix', 'Get-IsaacDataset', 'Get-IsaacEnvironment', 'Get-IsaacModelSummary', 'Get-IsaacTopLoss', 'Import-IsaacImageDataset', 'Import-IsaacModel', 'Invoke-IsaacFit', 'Invoke-IsaacPredict', 'Invoke-IsaacSweep', 'Lock-IsaacModel', 'New-IsaacCallback',
            'New-IsaacConvNet', 'New-IsaacDataLoaders', 'New-IsaacMlp', 'New-IsaacSimpleNet', 'New-IsaacTrainer', 'New-IsaacVisionModel', 'Remove-IsaacCallback', 'Restore-IsaacCheckpoint', 'Save-IsaacCheckpoint', 'Set-IsaacSeed', 'Set-IsaacThreads', 'Unlock-IsaacModel')
        $module.ExportedFunctions.Keys | Sort-Object | Should -Be 'Stop-IsaacBatch', 'Stop-IsaacEpoch', 'Stop-IsaacFit'
    }

    It 'is staged as an explicit list: module files, runtime closure, help, sample; no build leftovers' {
        $files = Get-ChildItem $env:ISAACAI_MODULE -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($env:ISAACAI_MODULE, $_.FullName) }
        foreach ($expected in 'Isaacai.psd1', 'Isaacai.psm1', 'Isaacai.Format.ps1xml', 'Isaacai.Types.ps1xml', 'Isaacai.dll', 'Isaacai.PowerShell.dll',
            'TorchSharp.dll', 'libLibTorchSharp.so', 'libtorch_cpu.so', 'ScottPlot.dll', 'SkiaSharp.dll', 'libSkiaSharp.so', 'TorchVision.dll', 'libHarfBuzzSharp.so', 'en-US/Isaacai.PowerShell.dll-Help.xml', 'en-US/about_Isaacai_Callbacks.help.txt',
            'datasets/fashion-mnist-sample/train-images-idx3-ubyte.gz', 'datasets/fashion-mnist-sample/LICENSE',
            'datasets/palmer-penguins/penguins.csv', 'datasets/palmer-penguins/LICENSE') {
            $files | Should -Contain $expected
        }
        $files | Where-Object { $_ -match '\.(pdb|xml|json)$' -and $_ -notlike 'en-US/*' } | Should -BeNullOrEmpty
        $files | Should -Not -Contain 'System.Management.Automation.dll'
    }

    It 'targets PowerShell 7.6 Core' {
        $manifest = Import-PowerShellDataFile (Join-Path $env:ISAACAI_MODULE 'Isaacai.psd1')
        $manifest.PowerShellVersion | Should -Be '7.6'
        $manifest.CompatiblePSEditions | Should -Be 'Core'
    }

    It 'holds only sealed cmdlets in the Commands namespace, each declaring its output type' {
        $cmdletTypes.Count | Should -Be 30 -Because 'every cmdlet is exported'
        foreach ($type in $cmdletTypes) {
            $type.IsSealed | Should -BeTrue -Because $type.Name
            $type.IsSubclassOf([System.Management.Automation.PSCmdlet]) | Should -BeTrue -Because $type.Name
            $type.GetCustomAttributes([System.Management.Automation.OutputTypeAttribute], $false).Count | Should -Be 1 -Because $type.Name
        }
    }

    It 'runs the fit on the pipeline thread' {
        $threads = [System.Collections.Generic.List[int]]::new()
        $t = New-TinyTrainer
        Add-IsaacCallback $t before_batch { $threads.Add([Environment]::CurrentManagedThreadId) } | Out-Null
        Invoke-IsaacFit $t | Out-Null
        $threads | Select-Object -Unique | Should -Be ([Environment]::CurrentManagedThreadId)
    }
}
