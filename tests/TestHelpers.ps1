# Dot-sourced by every *.Tests.ps1: imports the built module and makes small trainers.
Import-Module (Join-Path $env:ISAACAI_MODULE 'Isaacai.psd1')

if (-not (Get-Variable -Name IsaacTestData -Scope Global -ErrorAction Ignore)) {
    # 40 samples per split in batches of 16: three train batches and three valid batches, in milliseconds.
    $global:IsaacTestData = Get-IsaacDataset -Sample 40 -Seed 1
}

function New-TinyTrainer {
    param([object[]] $Callback = @(), [int] $BatchSize = 16, [string] $Type = 'Trainer')
    $dls = New-IsaacDataLoaders $global:IsaacTestData -BatchSize $BatchSize
    New-IsaacTrainer $Type -DataLoaders $dls -LossFunction CrossEntropy -Optimizer SGD -Model (New-IsaacSimpleNet 784 8 10) -Callback $Callback -LearningRate 0.1
}

# A hashtable callback that records every hook's seed name; it can run a scriptblock at the n-th call of one hook.
function New-TraceHooks {
    param([System.Collections.Generic.List[string]] $Trace, [string] $At, [int] $OnCall = 1, [scriptblock] $Do)
    $counter = @{ Calls = 0 }
    $hooks = @{}
    foreach ($name in [Isaacai.HookNames]::Seed) {
        $hooks[$name] = {
            $Trace.Add($name)
            if ($name -eq $At -and ++$counter.Calls -eq $OnCall) { & $Do }
        }.GetNewClosure()
    }
    $hooks
}

$global:TrainBatch = 'before_batch', 'predict', 'get_loss', 'before_backward', 'backward', 'step', 'zero_grad', 'after_batch', 'cleanup_batch'
$global:ValidBatch = 'before_batch', 'predict', 'get_loss', 'after_batch', 'cleanup_batch'

function Get-NormalTrace([int] $Epochs = 1, [switch] $NoValid) {
    'before_fit'
    foreach ($e in 1..$Epochs) {
        'before_epoch'; foreach ($b in 1..3) { $global:TrainBatch }; 'after_epoch'; 'cleanup_epoch'
        if (-not $NoValid) { 'before_epoch'; foreach ($b in 1..3) { $global:ValidBatch }; 'after_epoch'; 'cleanup_epoch' }
    }
    'after_fit'; 'cleanup_fit'
}

# Runs a script in a new runspace with these helpers loaded. Progress there is recorded, not shown,
# so tests can read it: returns the script's output and the progress records.
function Invoke-InNewRunspace([scriptblock] $Script) {
    $ps = [powershell]::Create()
    try {
        $output = $ps.AddScript(". '$PSScriptRoot/TestHelpers.ps1'").AddStatement().AddScript($Script.ToString()).Invoke()
        [pscustomobject]@{ Output = @($output); Progress = @($ps.Streams.Progress) }
    }
    finally { $ps.Dispose() }
}

# The shipped penguins table (344 rows, 11 with an NA), as Import-Csv gives it.
$global:PenguinsCsv = Join-Path $env:ISAACAI_MODULE 'datasets/palmer-penguins/penguins.csv'

# Runs a script in a new pwsh process that imports the built module: a new session, as a user's next one.
# The script's last output is returned, through JSON. With -StandardError, what the process wrote to stderr
# (the errors its host showed) goes there instead of into the test log: a test that expects errors checks them.
function Invoke-InNewProcess([string] $Script, [ref] $StandardError) {
    $file = Join-Path ([IO.Path]::GetTempPath()) "isaacai-$([guid]::NewGuid()).ps1"
    $errors = "$file.stderr"
    Set-Content -Path $file -Value "`$ErrorActionPreference = 'Stop'; Import-Module '$env:ISAACAI_MODULE/Isaacai.psd1'; [TorchSharp.torch]::set_num_threads(1)`n$Script"
    try {
        if ($StandardError) {
            $json = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -File $file 2> $errors
            $StandardError.Value = (Get-Content -Raw $errors -ErrorAction Ignore) ?? ''
        }
        else { $json = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -File $file }
        if ($LASTEXITCODE -ne 0) { throw "The new pwsh process failed ($LASTEXITCODE): $json $(if ($StandardError) { $StandardError.Value })" }
        $json | ConvertFrom-Json
    }
    finally { Remove-Item $file, $errors -ErrorAction Ignore }
}

# A PNG's width and height, from its IHDR chunk (big-endian, bytes 16 to 23).
function Get-PngSize([string] $Path) {
    $bytes = [IO.File]::ReadAllBytes($Path)
    [Text.Encoding]::ASCII.GetString($bytes, 1, 3) | Should -Be 'PNG'
    $size = { param($at) [int]$bytes[$at] -shl 24 -bor [int]$bytes[$at + 1] -shl 16 -bor [int]$bytes[$at + 2] -shl 8 -bor [int]$bytes[$at + 3] }
    '{0}x{1}' -f (& $size 16), (& $size 20)
}

# How many distinct colours the image has: a blank or flat image has a handful, a plot thousands.
function Get-ColourCount([string] $Path) {
    $image = [SkiaSharp.SKBitmap]::Decode($Path)
    try { [Collections.Generic.HashSet[SkiaSharp.SKColor]]::new($image.Pixels).Count } finally { $image.Dispose() }
}
