# The script half of the Isaacai module: readable names for the cancel exceptions. The cmdlets come
# from Isaacai.PowerShell.dll, loaded first as a nested module.

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
