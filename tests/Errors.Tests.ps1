BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    # An open runspace with the helpers loaded and torch at one thread, for fits started from this thread.
    function New-HelperRunspace {
        $runspace = [runspacefactory]::CreateRunspace()
        $runspace.Open()
        $setup = [powershell]::Create()
        $setup.Runspace = $runspace
        $null = $setup.AddScript(". '$PSScriptRoot/TestHelpers.ps1'; [TorchSharp.torch]::set_num_threads(1)").Invoke()
        $setup.Dispose()
        $runspace
    }
}

Describe 'Errors during a fit are never lost' {
    It 'keeps the first error (from C#) and attaches the cleanup error; a later cleanup callback still runs' {
        $trace = [System.Collections.Generic.List[string]]::new()
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        $t.Model = New-IsaacSimpleNet 10 8 10   # shape mismatch at predict
        Add-IsaacCallback $t cleanup_fit { throw 'cleanup failed too' } -Name Breaks | Out-Null
        Add-IsaacCallback $t cleanup_fit { $trace.Add('second cleanup_fit') } -Order 5 | Out-Null
        $failure = { Invoke-IsaacFit $t } | Should -Throw -ErrorId 'FitFailed,*' -PassThru
        $failure.Exception.Message | Should -BeLike 'mat1 and mat2 shapes cannot be multiplied*'
        $failure.ToString() | Should -BeLike "The fit failed at predict in callback 'BasicTrainCB': mat1 and mat2*While cleaning up, these callbacks failed too:*cleanup_fit hook of callback 'Breaks' failed: cleanup failed too*"
        [Isaacai.Trainer]::CleanupErrorsOf($failure.Exception).Count | Should -Be 1
        $trace | Should -Be 'second cleanup_fit'
    }

    It 'keeps the first error (from a script) when every cleanup level throws too' {
        $trace = [System.Collections.Generic.List[string]]::new()
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        Add-IsaacCallback $t after_batch { throw 'first' } -Name First | Out-Null
        Add-IsaacCallback $t -Hooks @{ cleanup_batch = { throw 'batch' }; cleanup_epoch = { throw 'epoch' }; cleanup_fit = { throw 'fit' } } -Name Cleanup | Out-Null
        Add-IsaacCallback $t -Hooks @{ cleanup_batch = { $trace.Add('b') }; cleanup_epoch = { $trace.Add('e') }; cleanup_fit = { $trace.Add('f') } } -Order 9 | Out-Null
        $failure = { Invoke-IsaacFit $t } | Should -Throw -ErrorId 'ScriptCallbackFailed*' -PassThru
        $failure.Exception.CallbackName | Should -Be 'First'
        $failure.Exception.Message | Should -BeLike "The after_batch hook of callback 'First' failed: first*"
        $failure.ToString() | Should -BeLike '*While cleaning up*cleanup_batch*batch*cleanup_epoch*epoch*cleanup_fit*fit*'
        $trace | Should -Be 'b', 'e', 'f'
    }
}

Describe 'A stop landing inside a cleanup hook' {
    BeforeAll {
        $script:runspace = New-HelperRunspace
        # Each cleanup hook has a slow script (where stops land) and a later one that must always run.
        $script:fit = {
            param($state)
            $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
            $state.Trainer = $t
            foreach ($hook in 'cleanup_batch', 'cleanup_epoch', 'cleanup_fit') {
                Add-IsaacCallback $t $hook ([scriptblock]::Create("
                    `$state.Trace.Add('${hook}:enter'); `$state.Entered = '$hook'
                    `$until = [datetime]::UtcNow.AddMilliseconds(20); while ([datetime]::UtcNow -lt `$until) { }
                    `$state.Trace.Add('${hook}:exit')")) | Out-Null
                Add-IsaacCallback $t $hook ([scriptblock]::Create("`$state.Trace.Add('${hook}:after')")) -Order 1 | Out-Null
            }
            Invoke-IsaacFit $t | Out-Null
        }
    }
    AfterAll { $runspace.Dispose() }

    It 'still runs every remaining cleanup callback, at its level and above, and ends as a CancelFit (random stop times)' {
        $landedIn = @{}
        $random = [random]::new(7)
        foreach ($trial in 0..14) {
            $state = [hashtable]::Synchronized(@{ Trace = [System.Collections.Generic.List[string]]::new(); Entered = '' })
            $ps = [powershell]::Create()
            $ps.Runspace = $runspace
            try {
                $handle = $ps.AddScript($fit).AddArgument($state).BeginInvoke()
                $deadline = [datetime]::UtcNow.AddSeconds(5)
                if ($trial -lt 12) {
                    # Aimed: wait for the slow script of one cleanup hook to begin, then stop at a random time inside it.
                    $target = 'cleanup_batch', 'cleanup_epoch', 'cleanup_fit' | Select-Object -Index ($trial % 3)
                    while ($state.Entered -ne $target -and -not $handle.IsCompleted -and [datetime]::UtcNow -lt $deadline) { }
                    Start-Sleep -Milliseconds $random.Next(0, 15)
                }
                else { Start-Sleep -Milliseconds $random.Next(0, 200) }   # anywhere
                $ps.Stop()
                $ps.InvocationStateInfo.State | Should -BeIn 'Stopped', 'Completed'
                $ps.Streams.Error | Should -BeNullOrEmpty
                $trace = $state.Trace.ToArray()
                $cut = @()
                for ($i = 0; $i -lt $trace.Count; $i++) {
                    if ($trace[$i] -notlike '*:enter') { continue }
                    $hook = $trace[$i] -replace ':enter$'
                    $rest = @($trace[($i + 1)..($trace.Count)] | Select-Object -First 2)
                    if ($rest[0] -ne "${hook}:exit") { $cut += $hook; $landedIn[$hook]++ }
                    # Whether or not its slow script was cut, the hook's later callback ran.
                    $rest | Should -Contain "${hook}:after" -Because "trial $trial, trace $($trace -join ' ')"
                }
                $cut.Count | Should -BeLessOrEqual 1 -Because 'only the script the stop landed in may end early'
                $trace[-1] | Should -Be 'cleanup_fit:after'
                $state.Trainer.IsFitting | Should -BeFalse
            }
            finally { $ps.Dispose() }
        }
        # The stops did land inside each cleanup hook's script.
        $landedIn.Keys | Sort-Object | Should -Be 'cleanup_batch', 'cleanup_epoch', 'cleanup_fit'
    }
}

Describe 'Two runspaces and one trainer' {
    BeforeAll {
        $script:pool = (New-HelperRunspace), (New-HelperRunspace)
        $script:fitIn = {
            param($trainer, $epochs, $delay)
            Start-Sleep -Milliseconds $delay
            $records = 0
            try { Invoke-IsaacFit $trainer -Epochs $epochs | ForEach-Object { $records++ }; "fit $records" }
            catch { "$($_.FullyQualifiedErrorId)" }
        }
    }
    AfterAll { $pool | ForEach-Object Dispose }

    It 'refuses the second fit before touching the trainer; the running fit is unaffected, always' {
        $random = [random]::new(3)
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
        foreach ($trial in 1..12) {
            $runs = foreach ($i in 0..1) {
                $ps = [powershell]::Create()
                $ps.Runspace = $pool[$i]
                $null = $ps.AddScript($fitIn).AddArgument($t).AddArgument(4).AddArgument($random.Next(0, 30))
                [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() }
            }
            $outcomes = foreach ($run in $runs) {
                try { $run.PowerShell.EndInvoke($run.Handle); $run.PowerShell.Streams.Error | ForEach-Object { "error: $_" } }
                finally { $run.PowerShell.Dispose() }
            }
            $outcomes | Should -Contain 'fit 4' -Because "trial $trial"
            foreach ($outcome in $outcomes) { $outcome | Should -BeIn 'fit 4', 'TrainerBusy,Isaacai.PowerShell.Commands.InvokeIsaacFitCommand' -Because "trial $trial" }
        }
        # And one overlap for certain (random delays may miss on a loaded machine): a long fit, then a second once it runs.
        $long = [powershell]::Create()
        $long.Runspace = $pool[0]
        $second = [powershell]::Create()
        $second.Runspace = $pool[1]
        try {
            $handle = $long.AddScript($fitIn).AddArgument($t).AddArgument(400).AddArgument(0).BeginInvoke()
            $clock = [Diagnostics.Stopwatch]::StartNew()
            while (-not $t.IsFitting -and -not $handle.IsCompleted -and $clock.Elapsed.TotalSeconds -lt 30) { Start-Sleep -Milliseconds 1 }
            $t.IsFitting | Should -BeTrue -Because 'the long fit has started'
            $second.AddScript($fitIn).AddArgument($t).AddArgument(4).AddArgument(0).Invoke() | Should -Be 'TrainerBusy,Isaacai.PowerShell.Commands.InvokeIsaacFitCommand'
            $long.EndInvoke($handle) | Should -Be 'fit 400'
        }
        finally {
            if (-not $handle.IsCompleted) { $long.Stop() }
            $second.Dispose()
            $long.Dispose()
        }
        $t.IsFitting | Should -BeFalse
        @(Invoke-IsaacFit $t).Count | Should -Be 1
    }
    It 'refuses to run a script callback in a runspace other than the one that made it' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        $here = 'untouched'
        Add-IsaacCallback $t after_batch { $here = 'overwritten' } | Out-Null
        $runner = [powershell]::Create(); $runner.Runspace = $pool[1]
        $null = $runner.AddScript({ param($t) try { Invoke-IsaacFit $t | Out-Null; 'fitted' } catch { "$_" } }).AddArgument($t)
        $outcome = $runner.Invoke()
        $runner.Dispose()
        "$outcome" | Should -BeLike '*made in another runspace*Add the callback (Add-IsaacCallback) in the runspace that runs the fit*'
        $here | Should -Be 'untouched'
        $t.IsFitting | Should -BeFalse
    }

    It 'refuses other runspaces'' changes and predictions while a fit runs: callbacks, checkpoints, predictions, the LR finder' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
        Invoke-IsaacFit $t | Out-Null
        Save-IsaacCheckpoint $t TestDrive:/busy.isaacckpt | Out-Null
        $path = (Resolve-Path TestDrive:/busy.isaacckpt).ProviderPath
        $gate = [System.Threading.ManualResetEventSlim]::new($false)
        $release = [System.Threading.ManualResetEventSlim]::new($false)
        # The fit, in the other runspace, holds the trainer at its first batch until this one has tried everything.
        # (Its hook is made there: a scriptblock runs in the runspace that made it.)
        $runner = [powershell]::Create(); $runner.Runspace = $pool[0]
        $null = $runner.AddScript({
                param($t, $gate, $release)
                Add-IsaacCallback $t before_batch { if ($_.Iter -eq 0 -and $_.Epoch -eq 0 -and $_.Training) { $gate.Set(); $null = $release.Wait(10000) } }.GetNewClosure() -Name holder | Out-Null
                Invoke-IsaacFit $t -Epochs 2 | Measure-Object | ForEach-Object Count
            }).AddArgument($t).AddArgument($gate).AddArgument($release)
        $handle = $runner.BeginInvoke()
        try {
            $gate.Wait(10000) | Should -BeTrue
            $attempts = @(
                { Add-IsaacCallback $t after_batch {} }
                { Remove-IsaacCallback $t -Name MetricsCB -Confirm:$false }
                { Restore-IsaacCheckpoint $t $path -Confirm:$false }
                { Save-IsaacCheckpoint $t TestDrive:/during.isaacckpt }
                { Export-IsaacModel $t TestDrive:/during.isaac }
                { Invoke-IsaacPredict $t $global:IsaacTestData['test'].X }
                { Find-IsaacLearningRate $t -Iterations 5 }
                { Invoke-IsaacFit $t }
            )
            foreach ($attempt in $attempts) {
                $e = $attempt | Should -Throw -PassThru -Because "$attempt"
                $e.FullyQualifiedErrorId | Should -BeLike 'TrainerBusy,*' -Because "$attempt"
            }
        }
        finally { $release.Set() }
        $runner.EndInvoke($handle) | Should -Be 2
        $runner.Dispose()
        $t.Callbacks.Name | Should -Be 'BasicTrainCB', 'MetricsCB', 'holder'
        'TestDrive:/during.isaacckpt' | Should -Not -Exist
        'TestDrive:/during.isaac' | Should -Not -Exist
    }
}

Describe 'Errors inside script callbacks' {
    It 'fails the fit on a .NET method failure, in a new pwsh process with the default error preference' {
        # As a user's session: a host runspace lets a statement-terminating error go on to the next statement.
        # The host shows that error, as a user sees it: captured here, not printed into the test log.
        $shown = ''
        $result = Invoke-InNewProcess -StandardError ([ref] $shown) @'
$ErrorActionPreference = 'Continue'
$trace = [System.Collections.Generic.List[string]]::new()
$dls = New-IsaacDataLoaders (Get-IsaacDataset -Sample 40 -Seed 1) -BatchSize 16
$t = New-IsaacTrainer Trainer -DataLoaders $dls -LossFunction CrossEntropy -Optimizer SGD -Model (New-IsaacSimpleNet 784 8 10) -Callback (New-IsaacCallback BasicTrain)
Add-IsaacCallback $t after_batch { [int]::Parse('x'); $trace.Add('went on') } -Name Parser | Out-Null
Add-IsaacCallback $t cleanup_fit { $trace.Add('cleanup_fit') } | Out-Null
Invoke-IsaacFit $t -ErrorVariable failures 2>$null | Out-Null   # no try {}: it would turn any script error into an exception
@{ Errors = @($failures | ForEach-Object Message); Trace = @($trace) } | ConvertTo-Json
'@
        $result.Errors.Count | Should -Be 1
        $result.Errors[0] | Should -BeLike "The after_batch hook of callback 'Parser' failed: Exception calling `"Parse`"*"
        $result.Trace | Should -Be 'cleanup_fit'
        $shown | Should -Match "(?s)^Invoke-IsaacFit: .*The after_batch hook of callback 'Parser' failed"
    }

    It 'fails the fit on Write-Error by default, and -ErrorVariable holds the error' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        Add-IsaacCallback $t after_epoch { Write-Error 'bad epoch' } | Out-Null
        $caught = $null
        try { Invoke-IsaacFit $t -ErrorVariable failures | Out-Null } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'ScriptCallbackFailed*'
        $caught.Exception.Message | Should -BeLike '*after_epoch*bad epoch*'
        $failures.Count | Should -Be 1
        $failures[0].ToString() | Should -BeLike '*after_epoch*bad epoch*'
    }

    It 'with Add-IsaacCallback -ErrorAction Continue, reports each failure on Invoke-IsaacFit''s error stream and goes on' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
        Add-IsaacCallback $t after_batch { Write-Error "batch $($_.Iter)" } -ErrorAction Continue | Out-Null
        Add-IsaacCallback $t after_epoch { [int]::Parse('x') } -ErrorAction Continue | Out-Null
        $records = @(Invoke-IsaacFit $t -ErrorVariable failures -ErrorAction SilentlyContinue)
        $records.Count | Should -Be 1
        $failures.Count | Should -Be 8   # 3 train and 3 valid batches, 2 phases
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'ScriptCallbackFailed*'
        $failures[0].Exception.Message | Should -BeLike '*after_batch*batch 0*'
        $failures[-1].Exception.Message | Should -BeLike '*after_epoch*Parse*'
    }

    It 'with -ErrorAction SilentlyContinue, goes on without a word' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        Add-IsaacCallback $t after_batch { throw 'ignored' } -ErrorAction SilentlyContinue | Out-Null
        Invoke-IsaacFit $t -ErrorVariable failures | Out-Null
        $failures.Count | Should -Be 0
    }

    It 'keeps $_, $args, param() and the caller''s $script: scope, and a script''s own $ErrorActionPreference lasts one call' {
        $seen = [System.Collections.Generic.List[object]]::new()
        $script:outer = 'script scope'
        $t = New-TinyTrainer
        Add-IsaacCallback $t before_batch {
            param($trainer)
            $seen.Add(($_ -eq $trainer) -and ($args.Count -eq 0) -and ($script:outer -eq 'script scope'))
            $seen.Add($ErrorActionPreference)
            $ErrorActionPreference = 'Continue'
        } | Out-Null
        Invoke-IsaacFit $t -NoValid | Out-Null
        $seen | Should -Be $true, 'Stop', $true, 'Stop', $true, 'Stop'
    }
}

Describe 'libtorch errors' {
    It 'keeps libtorch''s first line in the error and its C++ stack out of it (in Verbose)' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        $t.Model = New-IsaacSimpleNet 784 8 5   # labels up to 9 for 5 outputs
        $verbose = [System.Collections.Generic.List[string]]::new()
        $failure = $null
        try { Invoke-IsaacFit $t -Verbose 4>&1 | ForEach-Object { $verbose.Add($_.Message) } } catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -BeLike 'FitFailed,*'
        $failure.Exception.Message | Should -Match 'frame #0'   # the exception itself is unchanged
        $failure.ToString() | Should -Be "The fit failed at get_loss in callback 'BasicTrainCB': Target $(($failure.ToString() -split 'Target ')[1])"
        $failure.ToString() | Should -Not -Match 'frame #|Exception raised from'
        @($failure.ToString() -split "`n").Count | Should -Be 1
        ($verbose -join "`n") | Should -Match 'frame #0'
    }
}

Describe 'Stop-IsaacBatch, Stop-IsaacEpoch and Stop-IsaacFit outside a fit' {
    It 'says <_> works only inside a hook' -ForEach 'Stop-IsaacBatch', 'Stop-IsaacEpoch', 'Stop-IsaacFit' {
        { & $_ } | Should -Throw -ErrorId "StopOutsideHook,$_" -ExpectedMessage "$_ works only inside a hook of a running fit*"
    }
}

Describe 'Non-finite loss and learning rates' {
    It 'warns once per fit, naming epoch and batch' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        Add-IsaacCallback $t get_loss { if ($_.Iter -ge 1) { $_.Loss = [TorchSharp.torch]::tensor([single]::NaN) } } -Order 1 | Out-Null
        Invoke-IsaacFit $t -NoTrain -Epochs 2 -WarningVariable warnings -WarningAction SilentlyContinue | Out-Null
        $warnings.Count | Should -Be 1
        $warnings[0].Message | Should -BeLike 'The loss is NaN at epoch 0, batch 1 (valid)*'
    }

    It 'validates $trainer.Lr as the constructor does, and says "positive finite number" for -LearningRate' {
        $t = New-TinyTrainer
        { $t.Lr = [double]::NaN } | Should -Throw -ExpectedMessage '*positive finite number*'
        $t.Lr | Should -Be 0.1
        { Invoke-IsaacFit $t -LearningRate 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError*' -ExpectedMessage '*must be a positive finite number; 0 is not*'
        { Invoke-IsaacFit $t -LearningRate ([double]::NaN) } | Should -Throw -ExpectedMessage '*positive finite number*'
        { New-TinyTrainer | Out-Null; New-IsaacTrainer Trainer -DataLoaders $t.Dls -LossFunction CrossEntropy -Optimizer SGD -Model (New-IsaacSimpleNet 784 8 10) -LearningRate -1 } |
            Should -Throw -ExpectedMessage '*positive finite number*'
    }
}

Describe 'Smaller error messages' {
    It 'lists the valid devices for an unknown one' {
        { New-IsaacCallback Device -Device banana } | Should -Throw -ErrorId 'InvalidCallbackArgument,*' -ExpectedMessage "'banana' is not a device*available here: cpu*"
    }

    It 'says a first argument that is not a trainer is not a trainer' {
        { Add-IsaacCallback 'text' after_batch {} } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,*' -ExpectedMessage "*'text' is not a trainer*"
        { Invoke-IsaacFit 'text' } | Should -Throw -ExpectedMessage "*'text' is not a trainer*"
    }

    It 'refuses a -Sample larger than a split' {
        { Get-IsaacDataset -Sample 7000 } | Should -Throw -ErrorId 'SampleLargerThanSplit,*' -ExpectedMessage "*-Sample 7000 is more samples than split 'train' holds (train 6000, test 1000)*at most 1000*"
    }

    It 'says a dataset was disposed, when printed and when given to New-IsaacDataLoaders' {
        $data = Get-IsaacDataset -Sample 20
        $data['train'].Dispose()
        "$data" | Should -BeLike 'DatasetDict(train: disposed, test: 20*'
        { New-IsaacDataLoaders $data -BatchSize 4 } | Should -Throw -ErrorId 'DatasetDisposed,*' -ExpectedMessage '*tensors were disposed*load or make the dataset again*'
    }

    It 'says so too for loaders made before the dataset was disposed' {
        $data = Get-IsaacDataset -Sample 20
        $dls = New-IsaacDataLoaders $data -BatchSize 4
        $data['train'].Dispose()
        "$dls" | Should -Be 'DataLoaders(disposed dataset)'
        { New-IsaacTrainer -DataLoaders $dls -Model (New-IsaacSimpleNet 784 8 10) } | Should -Throw -ErrorId 'DatasetDisposed,*' -ExpectedMessage '*tensors were disposed*'
    }
}
