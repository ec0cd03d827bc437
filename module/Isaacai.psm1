# The script half of the Isaacai module: readable names for the cancel exceptions. The cmdlets come
# from Isaacai.PowerShell.dll, loaded first as a nested module.

# libtorch's default of one thread per core is slow on small machines shared with other work (README,
# "Threads"): start from the module's measured default; Set-IsaacThreads or OMP_NUM_THREADS change it.
[Isaacai.Runtime.TorchRuntime]::ApplyDefaultThreads()

function Stop-IsaacBatch {
    # .ExternalHelp Isaacai.PowerShell.dll-Help.xml
    [CmdletBinding()]
    [OutputType([void])]
    param()
    throw [Isaacai.CancelBatchException]::new()
}

function Stop-IsaacEpoch {
    # .ExternalHelp Isaacai.PowerShell.dll-Help.xml
    [CmdletBinding()]
    [OutputType([void])]
    param()
    throw [Isaacai.CancelEpochException]::new()
}

function Stop-IsaacFit {
    # .ExternalHelp Isaacai.PowerShell.dll-Help.xml
    [CmdletBinding()]
    [OutputType([void])]
    param()
    throw [Isaacai.CancelFitException]::new()
}
