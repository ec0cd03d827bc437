# The script half of the Isaacai module: readable names for the cancel exceptions. The cmdlets come
# from Isaacai.PowerShell.dll, loaded first as a nested module.

# libtorch's default of one thread per core is slow on small machines shared with other work (README,
# "Threads"): start from the module's measured default; Set-IsaacThreads or OMP_NUM_THREADS change it.
[Isaacai.Runtime.TorchRuntime]::ApplyDefaultThreads()
# Where NNPACK cannot start, libtorch warns at every one-sample or 1×1 convolution (README, "Limits").
$null = [Isaacai.Runtime.TorchRuntime]::DisableNnpack()
# glibc would hand each batch's freed tensors back to the kernel and fault them in again (README, "Speed of a batch").
$null = [Isaacai.Runtime.NativeHeap]::Tune()

# Outside a hook a cancel would reach the prompt as "OperationStopped: The epoch was cancelled.".
function Assert-InHook([string] $Level, [System.Management.Automation.PSCmdlet] $Cmdlet) {
    if ([Isaacai.PowerShell.ScriptCallback]::InHook) { return }
    $message = "$($Cmdlet.MyInvocation.MyCommand.Name) works only inside a hook of a running fit (a scriptblock or class callback), where it skips the rest of the $Level; no hook is running here."
    $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
            [System.InvalidOperationException]::new($message), 'StopOutsideHook', 'InvalidOperation', $null))
}

function Stop-IsaacBatch {
    # .ExternalHelp Isaacai.PowerShell.dll-Help.xml
    [CmdletBinding()]
    [OutputType([void])]
    param()
    Assert-InHook 'batch' $PSCmdlet
    throw [Isaacai.CancelBatchException]::new()
}

function Stop-IsaacEpoch {
    # .ExternalHelp Isaacai.PowerShell.dll-Help.xml
    [CmdletBinding()]
    [OutputType([void])]
    param()
    Assert-InHook 'epoch' $PSCmdlet
    throw [Isaacai.CancelEpochException]::new()
}

function Stop-IsaacFit {
    # .ExternalHelp Isaacai.PowerShell.dll-Help.xml
    [CmdletBinding()]
    [OutputType([void])]
    param()
    Assert-InHook 'fit' $PSCmdlet
    throw [Isaacai.CancelFitException]::new()
}
