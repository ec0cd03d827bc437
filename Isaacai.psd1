@{
    RootModule           = 'Isaacai.psm1'
    # Loaded at import, so that [TorchSharp.torch] and [Isaacai.*] types resolve before any command has run
    # (and before Isaacai.Types.ps1xml, whose tensor members are in Isaacai.PowerShell.dll, is read).
    RequiredAssemblies   = @('TorchSharp.dll', 'Isaacai.dll', 'Isaacai.PowerShell.dll')
    NestedModules        = @('Isaacai.PowerShell.dll')
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0f6c0e-3f4b-4d7e-9a35-1c8e6f2d9a41'
    Author               = 'Isaacai contributors'
    Copyright            = '(c) Isaacai contributors. MIT License.'
    Description          = 'A callback training loop on TorchSharp: every step of fit, epoch and batch is a callback, scriptblocks included.'
    PowerShellVersion    = '7.6'
    CompatiblePSEditions = @('Core')
    CmdletsToExport      = @(
        'New-IsaacTrainer', 'Add-IsaacCallback', 'Remove-IsaacCallback', 'Get-IsaacCallback', 'Invoke-IsaacFit',
        'Get-IsaacDataset', 'New-IsaacDataLoaders', 'New-IsaacSimpleNet', 'New-IsaacCallback', 'Set-IsaacSeed',
        'ConvertTo-IsaacDataset', 'New-IsaacMlp', 'New-IsaacConvNet', 'Export-IsaacModel', 'Import-IsaacModel', 'Invoke-IsaacPredict',
        'Find-IsaacLearningRate', 'Save-IsaacCheckpoint', 'Restore-IsaacCheckpoint', 'Export-IsaacPlot', 'Set-IsaacThreads', 'Get-IsaacEnvironment',
        'Import-IsaacImageDataset', 'Get-IsaacConfusionMatrix', 'Get-IsaacTopLoss',
        'New-IsaacVisionModel', 'Lock-IsaacModel', 'Unlock-IsaacModel', 'Get-IsaacModelSummary',
        'Invoke-IsaacSweep'
    )
    FunctionsToExport    = @('Stop-IsaacBatch', 'Stop-IsaacEpoch', 'Stop-IsaacFit')
    AliasesToExport      = @()
    VariablesToExport    = @()
    TypesToProcess       = @('Isaacai.Types.ps1xml')
    FormatsToProcess     = @('Isaacai.Format.ps1xml')
    PrivateData          = @{
        PSData = @{
            # What a gallery shows. ModuleVersion above and ProjectUri here are the one source of truth:
            # Directory.Build.props reads them for the assemblies and the engine's NuGet package.
            Tags         = @('MachineLearning', 'DeepLearning', 'TorchSharp', 'Training', 'Callbacks', 'Linux', 'PSEdition_Core')
            ProjectUri   = 'https://github.com/isaacai/isaacai'
            LicenseUri   = 'https://github.com/isaacai/isaacai/blob/main/LICENSE'
            ReleaseNotes = '0.1.0: the callback trainer and its cmdlets; your own tables and models, saved models and predictions; LR finder, one-cycle, schedules, early stopping, NaN guard, checkpoints that resume, CSV log, gradient clipping and accumulation, plots; the Fashion-MNIST and Palmer Penguins samples; linux-x64 CPU natives (libtorch 2.10 through TorchSharp 0.107.0).'
        }
    }
}
