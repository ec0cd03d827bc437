BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    # A new pwsh that imports the module and runs one script, with the environment variables given: the
    # thread settings under test are per process and happen at import.
    function Invoke-AfterImport([string] $Script, [hashtable] $Environment = @{}) {
        $saved = @{}
        foreach ($name in $Environment.Keys) { $saved[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, ($Environment[$name] ?? [NullString]::Value)) }
        try {
            $json = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -Command "`$ErrorActionPreference = 'Stop'; Import-Module '$env:ISAACAI_MODULE/Isaacai.psd1'; $Script"
            if ($LASTEXITCODE -ne 0) { throw "The new pwsh process failed ($LASTEXITCODE): $json" }
            $json | ConvertFrom-Json
        }
        # [NullString]: PowerShell would pass $null as '' and leave the variable set but empty (libgomp then warns in every child)
        finally { foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, ($saved[$name] ?? [NullString]::Value)) } }
    }
}

Describe 'Set-IsaacThreads' {
    It 'works right after Import-Module and sets the thread count libtorch uses' {
        $result = Invoke-AfterImport @'
Set-IsaacThreads 2; $two = [TorchSharp.torch]::get_num_threads()
Set-IsaacThreads 1; $one = [TorchSharp.torch]::get_num_threads()
@{ Two = $two; One = $one; SetBy = (Get-IsaacEnvironment).ThreadsSetBy } | ConvertTo-Json
'@
        ($result.Two, $result.One, $result.SetBy) | Should -Be 2, 1, 'Set-IsaacThreads'
    }

    It 'refuses a count below 1, and warns of more threads than cores' {
        { Set-IsaacThreads 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        $before = [TorchSharp.torch]::get_num_threads()
        try {
            Set-IsaacThreads ([Environment]::ProcessorCount + 1) -WarningVariable warned 3>$null
            "$warned" | Should -BeLike "*threads on $([Environment]::ProcessorCount) logical cores*"
        }
        finally { Set-IsaacThreads $before }
    }

    It 'starts at the module''s default, half the cores and at least one, unless OMP_NUM_THREADS says otherwise' {
        $expected = [Math]::Max(1, [int][Math]::Floor([Environment]::ProcessorCount / 2))
        $report = '@{ Threads = [TorchSharp.torch]::get_num_threads(); SetBy = (Get-IsaacEnvironment).ThreadsSetBy } | ConvertTo-Json'
        $default = Invoke-AfterImport $report @{ OMP_NUM_THREADS = $null }
        ($default.Threads, $default.SetBy) | Should -Be $expected, 'Isaacai default'
        $other = if ($expected -eq 1) { 2 } else { 1 }  # libtorch caps OMP_NUM_THREADS at the cores
        $omp = Invoke-AfterImport $report @{ OMP_NUM_THREADS = "$other" }
        ($omp.Threads, $omp.SetBy) | Should -Be $other, 'OMP_NUM_THREADS'
    }
}

Describe 'Get-IsaacEnvironment' {
    It 'reports versions, threads, devices, where the natives were loaded from and the GLIBCXX patch' {
        $environment = Get-IsaacEnvironment
        $environment.Isaacai | Should -Be (Get-Module Isaacai).Version.ToString()
        $environment.TorchSharp | Should -Be '0.107.0'
        $environment.LibTorch | Should -Match '^2\.\d+\.\d+'
        $environment.Threads | Should -Be ([TorchSharp.torch]::get_num_threads())
        $environment.Cores | Should -Be ([Environment]::ProcessorCount)
        $environment.Devices | Should -Contain 'cpu'
        $environment.NativeFolder | Should -Be (Resolve-Path $env:ISAACAI_MODULE).Path
        $environment.LibStdCxx | Should -BeLike '*/libstdc++.so*'
        $environment.GlibcxxPatch | Should -Be 'applied: GLIBCXX_3.4.32 is a weak need'
        $environment.NativeHeap | Should -BeLike 'Isaacai: *'
    }
}

Describe 'Native heap' {
    BeforeAll {
        # Minor page faults per training batch of a ConvNet, read from /proc/self/stat after each batch: the
        # median over the second epoch, when glibc has had a batch to settle, and the heap setting that ran.
        $script:FaultsPerBatch = @'
$faults = [System.Collections.Generic.List[long]]::new()
$data = Get-IsaacDataset -Sample 300 -Seed 1
$trainer = New-IsaacTrainer -DataLoaders ($data | New-IsaacDataLoaders -BatchSize 64) -Model ($data | New-IsaacConvNet)
$null = Add-IsaacCallback $trainer -Hook after_batch -ScriptBlock { $faults.Add([long]([IO.File]::ReadAllText('/proc/self/stat') -replace '^.*\) ' -split ' ')[7]) }
$null = Invoke-IsaacFit $trainer -Epochs 2
$half = [int]($faults.Count / 2)
$perBatch = @(for ($i = $half + 1; $i -lt $faults.Count; $i++) { $faults[$i] - $faults[$i - 1] }) | Sort-Object
@{ Median = $perBatch[[int]($perBatch.Count / 2)]; Setting = (Get-IsaacEnvironment).NativeHeap } | ConvertTo-Json
'@
    }

    It 'keeps the memory a batch frees for the next one, where glibc defaults fault it in again page by page' {
        $tuned = Invoke-AfterImport $FaultsPerBatch
        $tuned.Setting | Should -Be 'Isaacai: mmap threshold 32 MB, trim threshold 128 MB'
        $tuned.Median | Should -BeLessOrEqual 10
        # The same fit with glibc's defaults pinned by the user's own variables, which the module leaves alone.
        $glibc = Invoke-AfterImport $FaultsPerBatch @{ MALLOC_TRIM_THRESHOLD_ = '131072'; MALLOC_MMAP_THRESHOLD_ = '131072' }
        $glibc.Setting | Should -Be 'set by MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_'
        $glibc.Median | Should -BeGreaterThan 100
    }
}

Describe 'NNPACK' {
    It 'is off once the module is imported, so one-sample and 1x1 convolutions print no NNPACK warnings' {
        $stderr = ''
        $result = Invoke-InNewProcess -StandardError ([ref] $stderr) @'
$model = New-IsaacConvNet -InputChannels 1 -OutputSize 10
$one = [TorchSharp.torch]::zeros([long[]]@(1, 1, 28, 28))
$predictions = 1..3 | ForEach-Object { Invoke-IsaacPredict $model $one }
@{ Disabled = [Isaacai.Runtime.TorchRuntime]::NnpackDisabled; Count = @($predictions).Count } | ConvertTo-Json
'@
        $result.Disabled | Should -BeTrue
        $result.Count | Should -Be 3
        $stderr | Should -Not -Match 'NNPACK'
    }
}
