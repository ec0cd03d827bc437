BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    # A trial: SimpleNet on 300 samples per split of the shipped Fashion-MNIST sample, so a fit takes a moment
    # and a trial's time is its process starting. It logs its process, the thread count it trained with and
    # when its fit ran, to the file in $env:ISAACAI_SWEEP_LOG (each trial's process inherits it).
    $script:trial = {
        param($p)
        $log = $env:ISAACAI_SWEEP_LOG
        Add-Content $log "start $PID $([DateTime]::UtcNow.Ticks) $($p.Hidden) $($p.LearningRate)"
        $dls = Get-IsaacDataset FashionMNIST -Sample 300 -Seed 1 | New-IsaacDataLoaders -BatchSize 64
        $t = New-IsaacTrainer -DataLoaders $dls -Model (New-IsaacSimpleNet 784 $p.Hidden 10) -Optimizer Adam -LearningRate $p.LearningRate `
            -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics -Metric Accuracy)
        $null = Add-IsaacCallback $t after_fit { Add-Content $log "fit $PID $([DateTime]::UtcNow.Ticks) $([TorchSharp.torch]::get_num_threads())" }.GetNewClosure()
        $t
    }
    $script:space = @{ LearningRate = @{ LogUniform = 1e-4, 3e-1 }; Hidden = 8, 16, 32 }

    function Read-SweepLog([string] $Path) {
        @(Get-Content $Path -ErrorAction Ignore | ForEach-Object {
                $kind, $processId, $ticks, $rest = $_ -split ' '
                [pscustomobject]@{ Kind = $kind; Pid = [int]$processId; Ticks = [long]$ticks; Rest = $rest }
            })
    }

    function Read-Journal([string] $Path) { @(Get-Content $Path | Select-Object -Skip 1 | ConvertFrom-Json) }

    # The largest number of trial processes that were between their start and the end of their fit at once.
    function Get-MostAtOnce($Log) {
        $events = foreach ($start in $Log | Where-Object Kind -EQ start) {
            $end = $Log | Where-Object { $_.Kind -eq 'fit' -and $_.Pid -eq $start.Pid }
            [pscustomobject]@{ At = $start.Ticks; Step = 1 }
            [pscustomobject]@{ At = $end.Ticks; Step = -1 }
        }
        $now = $most = 0
        foreach ($e in $events | Sort-Object At, Step) { $now += $e.Step; $most = [math]::Max($most, $now) }
        $most
    }

    function Wait-Until([scriptblock] $Condition, [double] $Seconds, [string] $Because) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Gave up after $Seconds s waiting for $Because." }
            Start-Sleep -Milliseconds 200
        }
    }

    function Test-ProcessAlive([int] $Id) { $null -ne (Get-Process -Id $Id -ErrorAction Ignore) }
}

Describe 'Invoke-IsaacSweep' {
    BeforeAll {
        $env:ISAACAI_SWEEP_LOG = Join-Path $TestDrive 'random.log'
        $script:journal = Join-Path $TestDrive 'random.jsonl'
        $script:output = @(Invoke-IsaacSweep $trial $space -Trials 8 -Epochs 2 -Seed 11 -ThrottleLimit 2 -Journal $journal -PassThru)
        $script:trials = @($output | Where-Object { $_.PSObject.TypeNames[0] -eq 'Isaacai.SweepTrial' })
        $script:summary = $output[-1]
        $script:log = Read-SweepLog $env:ISAACAI_SWEEP_LOG
    }

    It 'runs a random sweep of 8 trials, each in its own process, 2 at a time, one thread each on 2 cores' {
        $trials.Count | Should -Be 8
        $trials.Trial | Sort-Object | Should -Be (0..7)
        $trials.State | Sort-Object -Unique | Should -Be 'Completed'
        $trials.Epochs | Sort-Object -Unique | Should -Be 2
        $trials.Host | Sort-Object -Unique | Should -Be 'localhost'
        $trials | ForEach-Object { [double]::IsFinite($_.Value) | Should -BeTrue; $_.Value | Should -BeGreaterThan 0 }
        $trials | ForEach-Object { $_.Hidden | Should -BeIn 8, 16, 32; $_.LearningRate | Should -BeGreaterOrEqual 1e-4; $_.LearningRate | Should -BeLessOrEqual 3e-1 }
        $starts = @($log | Where-Object Kind -EQ start)
        $starts.Count | Should -Be 8
        ($starts.Pid | Sort-Object -Unique).Count | Should -Be 8 -Because 'each trial has its own process'
        $starts.Pid | Should -Not -Contain $PID
        Get-MostAtOnce $log | Should -Be 2
        $threads = [math]::Max(1, [math]::Floor([Environment]::ProcessorCount / 2))
        $log | Where-Object Kind -EQ fit | ForEach-Object { [int]$_.Rest | Should -Be $threads }
        $starts.Pid | ForEach-Object { Test-ProcessAlive $_ | Should -BeFalse -Because 'no trial process outlives the sweep' }
    }

    It 'writes flat objects that sort and round-trip through Export-Csv, and a summary with the best trial' {
        $trials[0].PSObject.Properties.Name | Should -Be 'Trial', 'Hidden', 'LearningRate', 'State', 'Monitor', 'Value', 'BestEpoch', 'Epochs', 'Duration', 'Host', 'Seed', 'Error'
        $trials[0].PSObject.TypeNames[0] | Should -Be 'Isaacai.SweepTrial'
        $csv = Join-Path $TestDrive 'trials.csv'
        $trials | Export-Csv $csv
        $read = Import-Csv $csv
        $read.Count | Should -Be 8
        [double]$read[0].Value | Should -Be $trials[0].Value
        $best = $trials | Sort-Object Value | Select-Object -First 1
        $summary.Best.Trial | Should -Be $best.Trial
        $summary.Best.Value | Should -Be $best.Value
        $summary.Completed, $summary.Pruned, $summary.Failed, $summary.EpochsTrained | Should -Be 8, 0, 0, 16
    }

    It 'gives the same trials for the same seed, each with the results of that trial run alone' {
        $lines = Read-Journal $journal
        $lines.Count | Should -Be 8
        $alone = $trials | Sort-Object Trial | Select-Object -Index 5
        $script:trialText = $trial.ToString()
        $straight = Invoke-InNewProcess @"
`$env:ISAACAI_SWEEP_LOG = '$(Join-Path $TestDrive 'alone.log')'
Set-IsaacSeed $($alone.Seed)
`$t = & { $trialText } @{ Hidden = $($alone.Hidden); LearningRate = [double]'$($alone.LearningRate.ToString('R'))' }
@(Invoke-IsaacFit `$t -Epochs 2 | ForEach-Object valid_loss) | ConvertTo-Json -Compress
"@
        $recorded = $lines | Where-Object trial -EQ $alone.Trial
        $recorded.values | Should -Be $straight -Because 'the journal holds each epoch''s monitored value; alone, the trial gives the same, bit for bit'
        [Linq.Enumerable]::Min([double[]]$straight) | Should -Be $alone.Value
        # the same seed draws the same parameters: a shorter sweep's first trials are this one's
        $again = @(Invoke-IsaacSweep $trial $space -Trials 2 -Epochs 1 -Seed 11 -ThrottleLimit 2 | Sort-Object Trial)
        $again.LearningRate | Should -Be ($trials | Sort-Object Trial | Select-Object -First 2).LearningRate
        $again.Hidden | Should -Be ($trials | Sort-Object Trial | Select-Object -First 2).Hidden
        $again.Value | Should -Be ($lines | Sort-Object trial | Select-Object -First 2 | ForEach-Object { $_.values[0] })
    }
}

Describe 'Invoke-IsaacSweep given bad input' {
    It 'says what is wrong in one error, before any trial starts, and -WhatIf runs nothing' {
        $env:ISAACAI_SWEEP_LOG = Join-Path $TestDrive 'bad.log'
        { Invoke-IsaacSweep $trial $space -Epochs 1 } | Should -Throw -ErrorId 'TrialsMissing,Isaacai.PowerShell.Commands.InvokeIsaacSweepCommand'
        { Invoke-IsaacSweep $trial @{ LearningRate = @{ LogUniform = 0, 1 } } -Trials 1 } | Should -Throw '*LearningRate*low bound above 0*'
        { Invoke-IsaacSweep $trial @{ Hidden = @{ Uniform = 'a', 'b' } } -Trials 1 } | Should -Throw '*Hidden*Uniform takes two numbers*'
        { Invoke-IsaacSweep $trial @{ Value = 1, 2 } -Trials 1 } | Should -Throw -ErrorId 'ParameterNameTaken,Isaacai.PowerShell.Commands.InvokeIsaacSweepCommand'
        { Invoke-IsaacSweep $trial @{ LearningRate = @{ LogUniform = 1e-3, 1e-1 } } -Strategy Grid } | Should -Throw '*Steps*'
        $other = Join-Path $TestDrive 'other.jsonl'
        Set-Content $other '{"sweep":{"space":"Hidden: choice(8)","strategy":"Random","seed":1,"trials":1,"epochs":1,"monitor":"valid_loss","mode":"Min","pruner":"none"}}'
        { Invoke-IsaacSweep $trial $space -Trials 1 -Seed 1 -Journal $other } | Should -Throw '*written by another sweep: search space*'
        $whatIf = Join-Path $TestDrive 'whatif.jsonl'
        Invoke-IsaacSweep $trial $space -Trials 2 -Journal $whatIf -WhatIf | Should -BeNullOrEmpty
        Test-Path $whatIf | Should -BeFalse
        Test-Path $env:ISAACAI_SWEEP_LOG | Should -BeFalse -Because 'no trial ran'
    }
}

Describe 'Invoke-IsaacSweep with a failing trial' {
    It 'records an exception, a NaN and a killed process as Failed and goes on' {
        $failing = {
            param($p)
            $dls = Get-IsaacDataset FashionMNIST -Sample 100 -Seed 1 | New-IsaacDataLoaders -BatchSize 50
            $t = New-IsaacTrainer -DataLoaders $dls -Model (New-IsaacSimpleNet 784 8 10) -Optimizer Adam
            switch ($p.Case) {
                'throw' { throw 'this trial does not build' }
                'nan' { $null = Add-IsaacCallback $t get_loss { if (-not $_.Training) { $_.Loss = $_.Loss * [double]::NaN } } }
                'kill' { $null = Add-IsaacCallback $t after_epoch { Stop-Process -Id $PID -Force } }
            }
            $t
        }
        $out = @(Invoke-IsaacSweep $failing @{ Case = 'ok', 'throw', 'nan', 'kill' } -Strategy Grid -Epochs 2 -ThrottleLimit 2 -Seed 1 | Sort-Object Trial)
        $out.Count | Should -Be 4
        $out.State | Should -Be 'Completed', 'Failed', 'Failed', 'Failed'
        $out[1].Error | Should -BeLike '*this trial does not build*'
        $out[2].Error | Should -BeLike 'valid_loss was NaN at epoch 0*'
        $out[3].Error | Should -Not -BeNullOrEmpty
        $out[0].Error | Should -BeNullOrEmpty
    }
}

Describe 'Invoke-IsaacSweep pruning' {
    It 'stops, with the median pruner, only trials worse than the median of the completed ones at that epoch' {
        $journal = Join-Path $TestDrive 'median.jsonl'
        $env:ISAACAI_SWEEP_LOG = Join-Path $TestDrive 'median.log'
        # In grid order, one at a time: two good rates complete, then a rate too small to learn in 3 epochs
        $grid = @{ LearningRate = 3e-3, 1e-2, 1e-6, 5e-3; Hidden = 16 }
        $out = @(Invoke-IsaacSweep $trial $grid -Strategy Grid -Epochs 3 -Seed 5 -ThrottleLimit 1 -Pruner Median -Journal $journal)
        $lines = Read-Journal $journal
        $pruned = @($lines | Where-Object state -EQ Pruned)
        $pruned.trial | Should -Contain 2
        foreach ($p in $pruned) {
            $epoch = $p.values.Count - 1
            $peers = @($lines | Where-Object { $_.state -eq 'Completed' -and $_.trial -lt $p.trial } | ForEach-Object { $_.values[$epoch] } | Sort-Object)
            $median = if ($peers.Count % 2) { $peers[[math]::Floor($peers.Count / 2)] } else { ($peers[$peers.Count / 2 - 1] + $peers[$peers.Count / 2]) / 2 }
            $peers.Count | Should -BeGreaterOrEqual 2
            [Linq.Enumerable]::Min([double[]]$p.values) | Should -BeGreaterThan $median
            $p.values.Count | Should -BeLessThan 3
        }
        ($out | Where-Object State -EQ Completed | Sort-Object Value | Select-Object -First 1).Value | Should -Be ($out | Sort-Object Value | Select-Object -First 1).Value
    }

    It 'halves successively, continuing the best trials from their checkpoints as a straight fit would' {
        $journal = Join-Path $TestDrive 'halving.jsonl'
        $env:ISAACAI_SWEEP_LOG = Join-Path $TestDrive 'halving.log'
        $out = @(Invoke-IsaacSweep $trial $space -Trials 4 -Epochs 2 -Seed 5 -ThrottleLimit 2 -Pruner SuccessiveHalving -MinEpochs 1 -ReductionFactor 2 -Journal $journal -PassThru)
        $summary = $out[-1]
        $trials = @($out | Select-Object -SkipLast 1)
        $completed = @($trials | Where-Object State -EQ Completed)
        $prunedTrials = @($trials | Where-Object State -EQ Pruned)
        $completed.Count, $prunedTrials.Count | Should -Be 2, 2
        $prunedTrials.Epochs | Should -Be 1, 1
        $lines = Read-Journal $journal
        $firstRung = { param($n) ($lines | Where-Object trial -EQ $n).values[0] }
        foreach ($c in $completed) { foreach ($p in $prunedTrials) { & $firstRung $c.Trial | Should -BeLessOrEqual (& $firstRung $p.Trial) } }
        $summary.EpochsTrained | Should -Be 6 -Because '4 trials of 1 epoch, then 2 trials continued for 1 more, not 2 again'
        # each trial's second epoch came from its checkpoint: the same as 2 epochs straight
        $c = $completed[0]
        $straight = Invoke-InNewProcess @"
`$env:ISAACAI_SWEEP_LOG = '$(Join-Path $TestDrive 'alone.log')'
Set-IsaacSeed $($c.Seed)
`$t = & { $($trial.ToString()) } @{ Hidden = $($c.Hidden); LearningRate = [double]'$($c.LearningRate.ToString('R'))' }
@(Invoke-IsaacFit `$t -Epochs 2 | ForEach-Object valid_loss) | ConvertTo-Json -Compress
"@
        ($lines | Where-Object trial -EQ $c.Trial).values | Should -Be $straight
    }
}

Describe 'Invoke-IsaacSweep journal and Ctrl+C' {
    It 'resumes after the coordinator is killed, skipping the trials that ended, and leaves no trial process behind' {
        $journal = Join-Path $TestDrive 'resume.jsonl'
        $env:ISAACAI_SWEEP_LOG = Join-Path $TestDrive 'resume.log'
        $script = Join-Path $TestDrive 'coordinator.ps1'
        Set-Content $script @"
Import-Module '$env:ISAACAI_MODULE/Isaacai.psd1'
Invoke-IsaacSweep { $($trial.ToString()) } @{ LearningRate = @{ LogUniform = 1e-4, 3e-1 }; Hidden = 8, 16, 32 } -Trials 4 -Epochs 1 -Seed 2 -ThrottleLimit 1 -Journal '$journal' | Out-Null
"@
        $coordinator = Start-Process (Join-Path $PSHOME 'pwsh') -ArgumentList '-NoProfile', '-NonInteractive', '-File', $script -PassThru
        try { Wait-Until { (Get-Content $journal -ErrorAction Ignore).Count -ge 3 } 120 'two trials in the journal' }
        finally { $coordinator.Kill() }
        $coordinator.WaitForExit()
        $ended = Read-Journal $journal
        $before = Read-SweepLog $env:ISAACAI_SWEEP_LOG | Where-Object Kind -EQ start
        Wait-Until { -not ($before.Pid | Where-Object { Test-ProcessAlive $_ }) } 30 'the killed coordinator''s trial processes to end'

        $out = @(Invoke-IsaacSweep $trial $space -Trials 4 -Epochs 1 -Seed 2 -ThrottleLimit 2 -Journal $journal)
        $out.Trial | Sort-Object | Should -Be 0, 1, 2, 3
        $lines = Read-Journal $journal
        $lines.trial | Sort-Object | Should -Be 0, 1, 2, 3 -Because 'each trial once, the ended ones not run again'
        $after = @(Read-SweepLog $env:ISAACAI_SWEEP_LOG | Where-Object Kind -EQ start | Select-Object -Skip $before.Count)
        $after.Count | Should -Be (4 - $ended.Count)
        foreach ($e in $ended) { ($out | Where-Object Trial -EQ $e.trial).Duration | Should -Be ([math]::Round($e.duration_seconds, 3)) }
        (Get-Content -Raw $journal).EndsWith("}`n") | Should -BeTrue
    }

    It 'stops every running trial on Ctrl+C (StopProcessing) and keeps the journal whole' {
        $journal = Join-Path $TestDrive 'stop.jsonl'
        $env:ISAACAI_SWEEP_LOG = Join-Path $TestDrive 'stop.log'
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$env:ISAACAI_MODULE/Isaacai.psd1'").AddStatement().AddCommand('Invoke-IsaacSweep').AddParameters(@{
                    TrialScript = $trial; SearchSpace = $space; Trials = 4; Epochs = 500; Seed = 3; ThrottleLimit = 2; Journal = $journal
                })
            $async = $ps.BeginInvoke()
            Wait-Until { (Read-SweepLog $env:ISAACAI_SWEEP_LOG | Where-Object Kind -EQ start).Count -ge 2 } 120 'two trials to start'
            $pids = (Read-SweepLog $env:ISAACAI_SWEEP_LOG | Where-Object Kind -EQ start).Pid
            Start-Sleep -Seconds 1
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 30
            $pids | ForEach-Object { Test-ProcessAlive $_ | Should -BeFalse }
            $async.IsCompleted | Should -BeTrue
        }
        finally { $ps.Dispose() }
        @(Get-Content $journal).Count | Should -Be 1 -Because 'the sweep''s definition, and no trial: none ended'
    }
}

Describe 'Invoke-IsaacSweep over SSH' {
    BeforeAll {
        # A real sshd of its own on a loopback port, with throwaway host and user keys and a powershell
        # subsystem running this pwsh: trials go through PowerShell remoting as they would to another machine.
        $script:sshdPath = @('/usr/sbin/sshd', (Get-Command sshd -ErrorAction Ignore).Source) | Where-Object { $_ -and (Test-Path $_) } | Select-Object -First 1
        if (-not $sshdPath) { return }
        $script:sshDir = Join-Path $TestDrive 'ssh'
        $null = New-Item -ItemType Directory $sshDir
        foreach ($key in 'host_key', 'user_key') { & ssh-keygen -q -t ed25519 -N '' -C '' -f (Join-Path $sshDir $key) }
        Copy-Item (Join-Path $sshDir 'user_key.pub') (Join-Path $sshDir 'authorized_keys')
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start(); $script:port = $listener.LocalEndpoint.Port; $listener.Stop()
        Set-Content (Join-Path $sshDir 'sshd_config') @"
Port $port
ListenAddress 127.0.0.1
HostKey $sshDir/host_key
AuthorizedKeysFile $sshDir/authorized_keys
PidFile $sshDir/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem powershell $PSHOME/pwsh -sshs -NoLogo -NoProfile
"@
        Set-Content (Join-Path $sshDir 'known_hosts') "[127.0.0.1]:$port $(((Get-Content (Join-Path $sshDir 'host_key.pub')) -split ' ')[0..1] -join ' ')"
        $null = New-Item -ItemType Directory -Force /run/sshd   # sshd's privilege separation folder
        $script:sshdLog = Join-Path $sshDir 'sshd.log'
        $script:server = Start-Process $sshdPath -ArgumentList '-D', '-e', '-f', (Join-Path $sshDir 'sshd_config') -RedirectStandardError $sshdLog -PassThru
        Wait-Until { (Get-Content $sshdLog -Raw -ErrorAction Ignore) -match 'Server listening' -or $server.HasExited } 30 'sshd to listen'
    }

    AfterAll {
        if ($script:server -and -not $server.HasExited) { $server.Kill(); $server.WaitForExit() }
    }

    It 'runs trials on -HostName with the data copied there, brings the best model back, and retries a lost host''s trial elsewhere' {
        if (-not $sshdPath) { Set-ItResult -Skipped -Because 'sshd is not installed here (Debian: apt-get install openssh-server, which .ci/run does)'; return }
        $server.HasExited | Should -BeFalse -Because (Get-Content $sshdLog -Raw)
        Set-Content (Join-Path $TestDrive 'hidden.txt') '12'
        $remoteTrial = {
            param($p)
            $hidden = [int](Get-Content ./hidden.txt)   # copied by -CopyToHost into the folder the trial starts in
            $dls = Get-IsaacDataset FashionMNIST -Sample 100 -Seed 1 | New-IsaacDataLoaders -BatchSize 50
            New-IsaacTrainer -DataLoaders $dls -Model (New-IsaacSimpleNet 784 $hidden 10) -Optimizer Adam -LearningRate $p.LearningRate `
                -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
        }
        $tempBefore = @(Get-ChildItem ([IO.Path]::GetTempPath()) -Filter 'isaacai-sweep-*').Count
        $best = Join-Path $TestDrive 'best.isaac'
        # 127.0.0.2 is loopback too, but nothing listens there: the host is lost and its trial goes to 127.0.0.1.
        $out = @(Invoke-IsaacSweep $remoteTrial @{ LearningRate = 1e-3, 3e-3, 1e-2 } -Strategy Grid -Epochs 1 -Seed 4 -ThrottleLimit 1 `
                -HostName 127.0.0.1, 127.0.0.2 -Port $port -UserName ([Environment]::UserName) -KeyFilePath (Join-Path $sshDir 'user_key') `
                -SshOption @{ UserKnownHostsFile = (Join-Path $sshDir 'known_hosts'); StrictHostKeyChecking = 'yes'; ConnectTimeout = 10 } `
                -ModulePath (Join-Path $env:ISAACAI_MODULE 'Isaacai.psd1') -CopyToHost (Join-Path $TestDrive 'hidden.txt') -BestModelPath $best `
                -WarningVariable lost -WarningAction SilentlyContinue -PassThru)
        $trials = @($out | Select-Object -SkipLast 1)
        $trials.Trial | Sort-Object | Should -Be 0, 1, 2
        $trials.State | Sort-Object -Unique | Should -Be 'Completed'
        $trials.Host | Sort-Object -Unique | Should -Be '127.0.0.1'
        @($lost) -join ' ' | Should -BeLike '*Host 127.0.0.2 was lost*goes to another host*'
        (Get-Content $sshdLog | Select-String 'Accepted publickey').Count | Should -BeGreaterOrEqual 3
        $out[-1].BestModelPath | Should -Be $best
        $model = (Import-IsaacModel $best).Model
        ($model.parameters() | ForEach-Object { $_.numel() } | Measure-Object -Sum).Sum | Should -Be (784 * 12 + 12 + 12 * 10 + 10) -Because 'the model came back, built with the copied file''s width'
        @(Get-ChildItem ([IO.Path]::GetTempPath()) -Filter 'isaacai-sweep-*').Count | Should -Be $tempBefore -Because 'the work folders on the host and here are removed'
    }
}
