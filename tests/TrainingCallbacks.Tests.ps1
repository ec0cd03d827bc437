BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    [TorchSharp.torch]::set_num_threads(1)

    # The penguins: a fit that learns in a few epochs, with Adam (a beta1 for one-cycle to move).
    function New-PenguinTrainer([object[]] $Callback, [int] $Seed = 3, [string] $Optimizer = 'Adam') {
        Set-IsaacSeed $Seed
        $ds = Import-Csv $PenguinsCsv | ConvertTo-IsaacDataset -Target species -MissingValue Drop -WarningAction SilentlyContinue -InformationAction Ignore
        $cbs = @((New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics -Metric Accuracy), (New-IsaacCallback Tracking)) + @($Callback | Where-Object { $_ })
        New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 32) -Model ($ds | New-IsaacMlp -HiddenSize 16 -Dropout 0.1) -Callback $cbs -LearningRate 0.01 -Optimizer $Optimizer
    }

    function Get-Weights($Trainer) {
        $Trainer.Model.state_dict().GetEnumerator() | ForEach-Object { [pscustomobject]@{ Key = $_.Key; Values = $_.Value.flatten().data[float]().ToArray() } }
    }
}

Describe 'New-IsaacCallback for the training callbacks' {
    It 'offers every callback by name with its constructor settings as parameters' {
        $names = (TabExpansion2 -inputScript 'New-IsaacCallback ' -cursorColumn 18).CompletionMatches.CompletionText
        $names | Should -Contain 'EarlyStopping'
        $names | Should -Contain 'OneCycle'
        $names | Should -Contain 'LRFinder'
        $names | Should -Contain 'Checkpoint'
        $names | Should -Contain 'CsvLogger'
        $names | Should -Contain 'GradientClip'
        $names | Should -Contain 'GradientAccumulation'
        $names | Should -Contain 'TerminateOnNaN'
        $settings = (TabExpansion2 -inputScript 'New-IsaacCallback EarlyStopping -' -cursorColumn 33).CompletionMatches.CompletionText
        $settings | Should -Contain '-Patience'
        $settings | Should -Contain '-RestoreBestWeights'
        $settings | Should -Contain '-MinDelta'
        $line = 'New-IsaacCallback EarlyStopping -Monitor '
        $keys = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $keys | Should -Contain 'valid_loss'
        $keys | Should -Contain 'Accuracy'
        $modes = (TabExpansion2 -inputScript 'New-IsaacCallback EarlyStopping -Mode ' -cursorColumn 38).CompletionMatches.CompletionText
        $modes | Should -Be 'Auto', 'Max', 'Min'
        $es = New-IsaacCallback EarlyStopping -Monitor Accuracy -Patience 3 -RestoreBestWeights
        $es.Patience | Should -Be 3
        $es.RestoreBestWeights | Should -BeTrue
        $es.Monitor.Mode | Should -Be 'Max'
    }

    It 'leaves a callback as it was when Add-IsaacCallback refuses it' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
        $cb = Add-IsaacCallback $t after_batch {} -Name mine -Order 3
        $e = { Add-IsaacCallback $t -Callback $cb -Order 99 -After BasicTrainCB } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'CallbackAlreadyAdded,*'
        $cb.Order | Should -Be 3
        $cb.RunsAfter.Count | Should -Be 0
        { Add-IsaacCallback $t after_batch {} -Name cyc -Before mine -After mine } | Should -Throw -ErrorId 'InvalidCallbackOrder,*'
        $t.Callbacks.Name | Should -Be 'BasicTrainCB', 'MetricsCB', 'mine'
    }

    It 'refuses a bad setting with one error naming it and what is valid' {
        $e = { New-IsaacCallback GradientClip -MaxNorm 0 } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidCallbackArgument,*'
        $e.Exception.Message | Should -BeLike '*MaxNorm must be a positive finite number*'
        { New-IsaacCallback Checkpoint } | Should -Throw -ExpectedMessage '*Path*'
    }

    It 'says plainly that mixed precision is not available, and why' {
        $e = { New-IsaacCallback MixedPrecision } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'CallbackNotAvailable,*'
        $e.CategoryInfo.Category | Should -Be 'NotImplemented'
        $e.Exception.Message | Should -BeLike '*TorchSharp*neither autocast nor a gradient scaler*'
    }

    It 'resolves -Path against the current PowerShell location' {
        Push-Location TestDrive:\
        try { (New-IsaacCallback CsvLogger -Path metrics.csv).Path | Should -Be (Join-Path (Get-PSDrive TestDrive).Root 'metrics.csv') }
        finally { Pop-Location }
    }
}

Describe 'Find-IsaacLearningRate' {
    It 'suggests, by default, a rate past the first tenth of the sweep where the loss has fallen, which the README''s one-cycle recipe trains a regression with' {
        # The steepest descent put this at 1.2e-7 to 1.45e-7, which then trained no better than predicting the mean.
        $run = Invoke-InNewRunspace {
            [TorchSharp.torch]::set_num_threads(1)
            $ds = Import-Csv $PenguinsCsv | ConvertTo-IsaacDataset -Target body_mass_g -MissingValue Drop -WarningAction SilentlyContinue
            $results = foreach ($seed in 2, 3) {
                Set-IsaacSeed $seed
                $t = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 32) -Model ($ds | New-IsaacMlp 32) -LearningRate 0.01
                $lr = Find-IsaacLearningRate $t
                $at = $lr.Points | Where-Object Lr -EQ $lr.SuggestedLr
                $fit = Invoke-IsaacFit $t -Epochs 5 -OneCycle -LearningRate $lr.SuggestedLr -ProgressAction SilentlyContinue | Select-Object -Last 1
                [pscustomobject]@{ Seed = $seed; Lr = $lr.SuggestedLr; Valley = $lr.ValleyLr; Iteration = $at.Iteration; Fallen = $at.SmoothedLoss -lt $lr.Points[10].SmoothedLoss; ValidLoss = $fit.valid_loss }
            }
            $results
            "errors: $($Error.Count)"
        }
        $run.Output[-1] | Should -Be 'errors: 0'
        foreach ($result in $run.Output[0..1]) {
            $result.Lr | Should -Be $result.Valley
            $result.Iteration | Should -BeGreaterOrEqual 10 -Because "seed $($result.Seed): never in the sweep's first tenth"
            $result.Fallen | Should -BeTrue -Because "seed $($result.Seed): never where the loss has not fallen"
            $result.ValidLoss | Should -BeLessThan 0.5 -Because "seed $($result.Seed): the mean of the standardised target scores 1"
        }
    }

    It 'says there is no suggestion when the loss never fell, rather than suggest a dip of noise' {
        $t = New-PenguinTrainer
        $before = Get-Weights $t
        $e = { Find-IsaacLearningRate $t -StartLr 1e-10 -EndLr 1e-9 } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'LRFinderFailed,*'
        "$e" | Should -BeLike 'The smoothed loss never fell more than 5% below * (its value at lr *) in the LR range test up to lr * (its lowest: *), so there is no learning rate to suggest*'
        $after = Get-Weights $t
        for ($i = 0; $i -lt $before.Count; $i++) { $after[$i].Values | Should -Be $before[$i].Values }
    }

    It 'outputs the points and a suggestion, and leaves the weights exactly as they were' {
        $t = New-PenguinTrainer
        $before = Get-Weights $t
        $r = Find-IsaacLearningRate $t -Iterations 60 -StartLr 1e-5 -EndLr 10 -PlotPath TestDrive:/lr.png
        'TestDrive:/lr.png' | Should -Exist
        (Get-Item TestDrive:/lr.png).Length | Should -BeGreaterThan 5000
        $r.Points.Count | Should -BeGreaterThan 10
        $r.SuggestedLr | Should -BeGreaterThan 1e-5
        $r.SuggestedLr | Should -BeLessThan 10
        ($r.Points | Select-Object -First 1).Lr | Should -Be 1e-5
        $after = Get-Weights $t
        for ($i = 0; $i -lt $before.Count; $i++) { $after[$i].Values | Should -Be $before[$i].Values }
        $t.Callbacks.Name | Should -Not -Contain 'LRFinderCB'
        ($r | Out-String) | Should -BeLike '*SuggestedLr*'
        # a failure inside the test reads as a fit's does: the hook named, no libtorch C++ frames
        $wrong = New-IsaacTrainer -DataLoaders $t.Dls -Model (New-IsaacMlp 16 -InputSize 7 -OutputSize 3)
        $e = { Find-IsaacLearningRate $wrong -Iterations 5 } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'LRFinderFailed,*'
        "$e" | Should -BeLike '*The fit failed at predict*'
        "$e" | Should -Not -BeLike '*frame #*'
        (Find-IsaacLearningRate $t -Iterations 20 -PlotPath TestDrive:/not.png -WhatIf).Points.Count | Should -BeGreaterThan 2
        'TestDrive:/not.png' | Should -Not -Exist
    }
}

Describe 'Invoke-IsaacFit -OneCycle' {
    It 'peaks at -LearningRate after a quarter of the steps and ends far below it, then removes itself' {
        $t = New-PenguinTrainer
        $records = Invoke-IsaacFit $t -Epochs 4 -OneCycle -LearningRate 0.02
        $records.Count | Should -Be 4
        $lrs = $t.Callbacks.Where({ $_.Name -eq 'TrackingCB' })[0].Lrs
        $peak = [Linq.Enumerable]::Max([double[]]$lrs)
        $peak | Should -BeGreaterThan 0.0199
        [array]::IndexOf([double[]]$lrs, $peak) | Should -BeIn (([math]::Floor(0.25 * ($lrs.Count - 1))), ([math]::Ceiling(0.25 * ($lrs.Count - 1))))
        $lrs[0] | Should -BeLessThan (0.02 / 24)
        $lrs[-1] | Should -BeLessThan 1e-6
        $t.Callbacks.Name | Should -Not -Contain 'OneCycleCB'
    }
}

Describe 'Early stopping, NaN guard, schedules from PowerShell' {
    It 'stops when valid_loss stops improving, with a warning' {
        $scramble = @{ before_epoch = { if ($_.Epoch -ge 2 -and $_.Training) { foreach ($p in $_.Model.parameters()) { $null = $p.detach().mul_([TorchSharp.Scalar]0) } } } }
        $t = New-PenguinTrainer -Callback (New-IsaacCallback EarlyStopping -Patience 1)
        Add-IsaacCallback $t -Hooks $scramble | Out-Null
        $records = Invoke-IsaacFit $t -Epochs 10 -WarningVariable warnings 3>$null
        $records.Count | Should -Be 3
        "$warnings" | Should -BeLike '*Early stopping at epoch 2*valid_loss*'
    }

    It 'ends a fit whose loss becomes NaN, naming the epoch and batch' {
        $t = New-PenguinTrainer -Callback (New-IsaacCallback TerminateOnNaN)
        Add-IsaacCallback $t get_loss { if ($_.Epoch -eq 1 -and $_.Iter -eq 2) { $_.Loss = $_.Loss.div([TorchSharp.Scalar]0).mul([TorchSharp.Scalar]0) } } -Order 5 | Out-Null
        $records = Invoke-IsaacFit $t -Epochs 5 -WarningVariable warnings 3>$null
        $records.Count | Should -Be 1
        "$warnings" | Should -BeLike '*NaN at epoch 1, train batch 2*'
    }

    It 'takes a scriptblock schedule and reports its failure as the schedule''s' {
        $t = New-PenguinTrainer -Callback (New-IsaacCallback Schedule -Schedule { param($s) 0.01 * [math]::Pow(0.5, $s.Epoch) } -Interval Epoch)
        Invoke-IsaacFit $t -Epochs 2 | Out-Null
        $lrs = $t.Callbacks.Where({ $_.Name -eq 'TrackingCB' })[0].Lrs
        $lrs[0] | Should -Be 0.01
        $lrs[-1] | Should -Be 0.005
        $bad = New-PenguinTrainer -Callback (New-IsaacCallback Schedule -Schedule { 'fast' })
        $e = { Invoke-IsaacFit $bad } | Should -Throw -PassThru
        $e.Exception.Message | Should -BeLike '*must return one learning rate*'
        $two = New-PenguinTrainer -Callback (New-IsaacCallback Schedule -Schedule { 0.01, 0.02 })
        { Invoke-IsaacFit $two } | Should -Throw -ExpectedMessage '*returned 2 values*'
        # as in a hook, the first error (Write-Error included) fails the fit
        $erring = New-PenguinTrainer -Callback (New-IsaacCallback Schedule -Schedule { Write-Error 'no rate today'; 0.01 } -Interval Epoch)
        $e = { Invoke-IsaacFit $erring } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ScriptCallbackFailed,*'
        $e.Exception.Message | Should -BeLike "*schedule*'ScheduleCB'*no rate today*"
    }
}

Describe 'Checkpoints' {
    It 'resumes a killed fit so that 3 + 2 epochs give the weights of 5 straight, bit for bit' {
        $straight = New-PenguinTrainer -Callback (New-IsaacCallback Checkpoint -Path 'TestDrive:/straight.isaacckpt'), (New-IsaacCallback EarlyStopping -Patience 4 -RestoreBestWeights)
        Set-IsaacSeed 9
        Invoke-IsaacFit $straight -Epochs 5 -OneCycle -LearningRate 0.02 | Out-Null

        $killed = New-PenguinTrainer -Callback (New-IsaacCallback Checkpoint -Path 'TestDrive:/run.isaacckpt'), (New-IsaacCallback EarlyStopping -Patience 4 -RestoreBestWeights)
        Add-IsaacCallback $killed after_epoch { if ($_.Epoch -eq 2 -and -not $_.Training) { Stop-IsaacFit } } -Order 30 | Out-Null
        Set-IsaacSeed 9
        (Invoke-IsaacFit $killed -Epochs 5 -OneCycle -LearningRate 0.02).Count | Should -Be 3

        $resumed = New-PenguinTrainer -Seed 77 -Callback (New-IsaacCallback Checkpoint -Path 'TestDrive:/resumed.isaacckpt'), (New-IsaacCallback EarlyStopping -Patience 4 -RestoreBestWeights)
        $records = Invoke-IsaacFit $resumed -Epochs 5 -OneCycle -LearningRate 0.02 -Resume 'TestDrive:/run.isaacckpt'
        $records.epoch | Should -Be 3, 4
        $a = Get-Weights $straight; $b = Get-Weights $resumed
        for ($i = 0; $i -lt $a.Count; $i++) { $b[$i].Values | Should -Be $a[$i].Values }
    }

    It 'resumes a checkpoint saved with <SavedWith> under <ResumedWith> as if it had never stopped' -ForEach @(
        @{ SavedWith = 'Adam'; ResumedWith = 'TorchSharp.Adam' }, @{ SavedWith = 'TorchSharp.SGD'; ResumedWith = 'SGD' }
    ) {
        # Both kinds save TorchSharp's state format under the same name, so a fit can change kind on resume.
        $straight = New-PenguinTrainer -Optimizer $SavedWith
        Set-IsaacSeed 9
        Invoke-IsaacFit $straight -Epochs 4 -OneCycle -LearningRate 0.02 | Out-Null

        $stopped = New-PenguinTrainer -Optimizer $SavedWith -Callback (New-IsaacCallback Checkpoint -Path "TestDrive:/$SavedWith.isaacckpt")
        Add-IsaacCallback $stopped after_epoch { if ($_.Epoch -eq 1 -and -not $_.Training) { Stop-IsaacFit } } -Order 30 | Out-Null
        Set-IsaacSeed 9
        Invoke-IsaacFit $stopped -Epochs 4 -OneCycle -LearningRate 0.02 | Out-Null

        $resumed = New-PenguinTrainer -Optimizer $ResumedWith -Seed 77 -Callback (New-IsaacCallback Checkpoint -Path "TestDrive:/$SavedWith-resumed.isaacckpt")
        (Invoke-IsaacFit $resumed -Epochs 4 -OneCycle -LearningRate 0.02 -Resume "TestDrive:/$SavedWith.isaacckpt").epoch | Should -Be 2, 3
        $resumed.Opt.GetType().FullName | Should -Be $(if ($ResumedWith -like 'TorchSharp.*') { "TorchSharp.Modules.$($ResumedWith.Substring(11))" } else { "Isaacai.Optimization.$ResumedWith" })
        $a = Get-Weights $straight; $b = Get-Weights $resumed
        for ($i = 0; $i -lt $a.Count; $i++) { [Linq.Enumerable]::Max([float[]]@(for ($j = 0; $j -lt $a[$i].Values.Count; $j++) { [math]::Abs($a[$i].Values[$j] - $b[$i].Values[$j]) })) | Should -BeLessThan 1e-5 }
    }

    It 'saves with ShouldProcess and -NoClobber, and restores into a trainer' {
        $t = New-PenguinTrainer
        Invoke-IsaacFit $t -Epochs 2 | Out-Null
        Save-IsaacCheckpoint $t TestDrive:/manual.isaacckpt -WhatIf
        'TestDrive:/manual.isaacckpt' | Should -Not -Exist
        (Save-IsaacCheckpoint $t TestDrive:/manual.isaacckpt).Length | Should -BeGreaterThan 0
        $e = { Save-IsaacCheckpoint $t TestDrive:/manual.isaacckpt -NoClobber } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'CheckpointExists,*'
        $saved = Get-Weights $t
        $other = New-PenguinTrainer -Seed 5
        $info = Restore-IsaacCheckpoint $other TestDrive:/manual.isaacckpt
        $info.EpochsCompleted | Should -Be 2
        $restored = Get-Weights $other
        for ($i = 0; $i -lt $saved.Count; $i++) { $restored[$i].Values | Should -Be $saved[$i].Values }
    }

    It 'refuses a file that is not a checkpoint with one clear error, and the trainer still fits' {
        Set-Content TestDrive:/junk.isaacckpt 'junk'
        $t = New-PenguinTrainer
        $e = { Invoke-IsaacFit $t -Resume TestDrive:/junk.isaacckpt } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidCheckpoint,*'
        $e.Exception.Message | Should -BeLike '*not an Isaacai checkpoint*'
        (Invoke-IsaacFit $t).Count | Should -Be 1
        $e = { Restore-IsaacCheckpoint $t TestDrive:/junk.isaacckpt } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'CheckpointNotRestored,*'
    }
}

Describe 'An epoch fully done before its record goes out' {
    It 'has logged, checkpointed and counted an epoch whose record a stopped pipeline took' {
        $csv = Join-Path (Get-PSDrive TestDrive).Root 'first-two.csv'
        $t = New-PenguinTrainer -Callback (New-IsaacCallback CsvLogger -Path $csv), (New-IsaacCallback Checkpoint -Path 'TestDrive:/first-two-{epoch}.isaacckpt'), (New-IsaacCallback EarlyStopping -Patience 5)
        $records = Invoke-IsaacFit $t -Epochs 5 | Select-Object -First 2
        $records.epoch | Should -Be 0, 1
        @(Import-Csv $csv).Count | Should -Be 2
        'TestDrive:/first-two-2.isaacckpt' | Should -Exist
        $t.Callbacks.Where({ $_.Name -eq 'EarlyStoppingCB' })[0].BestEpoch | Should -BeIn 0, 1
        [Isaacai.Checkpoints.Checkpoint]::EpochsFinishedBy($t) | Should -Be 2
    }
}

Describe 'CsvLogger' {
    It 'has each finished epoch on disk while the fit goes on' {
        $path = Join-Path (Get-PSDrive TestDrive).Root 'log.csv'
        $t = New-PenguinTrainer -Callback (New-IsaacCallback CsvLogger -Path $path)
        $seen = [System.Collections.Generic.List[int]]::new()
        Add-IsaacCallback $t before_epoch { if ($_.Training -and $_.Epoch -gt 0) { $seen.Add(@(Import-Csv $path).Count) } }.GetNewClosure() | Out-Null
        Invoke-IsaacFit $t -Epochs 3 | Out-Null
        $seen | Should -Be 1, 2
        $rows = Import-Csv $path
        $rows.Count | Should -Be 3
        $rows[2].epoch | Should -Be '2'
        ($rows[0].PSObject.Properties.Name -join ',') | Should -Be 'Accuracy,train_loss,valid_loss,epoch,elapsed'
    }

    It 'appends after a whole last row left without its newline, keeping both rows whole' {
        $path = Join-Path (Get-PSDrive TestDrive).Root 'open.csv'
        [IO.File]::WriteAllText($path, "Accuracy,train_loss,valid_loss,epoch,elapsed`n0.5,1,1,0,0.1")
        $t = New-PenguinTrainer -Callback (New-IsaacCallback CsvLogger -Path $path -Append)
        Invoke-IsaacFit $t | Out-Null
        $rows = Import-Csv $path
        $rows.Count | Should -Be 2
        $rows[0].elapsed | Should -Be '0.1'
        $rows[1].epoch | Should -Be '0'
    }

    It 'writes a row whole or not at all on a full disk, and an -Append fit takes away a row an earlier failure cut off' {
        $disk = Join-Path (Get-PSDrive TestDrive).Root 'small-disk'
        $null = New-Item -ItemType Directory $disk
        $refused = & mount -t tmpfs -o size=64k tmpfs $disk 2>&1
        if ($LASTEXITCODE -ne 0) { Set-ItResult -Skipped -Because "a full disk needs a 64 KB tmpfs, and mounting one was refused: $refused"; return }
        try {
            # A log whose page has 20 bytes left, on a disk with no other room: the next row (some 50 bytes) begins and cannot end.
            $path = Join-Path $disk 'log.csv'
            $text = "Accuracy,train_loss,valid_loss,epoch,elapsed`n"
            while ($text.Length + 40 -le 4076) { $text += "0.5,1,1,0,0.1`n" }
            $text += '0.5,1,1,0,' + ('1' * (4076 - $text.Length - 11)) + "`n"
            [IO.File]::WriteAllText($path, $text)
            $filler = [IO.FileStream]::new((Join-Path $disk 'filler'), 'Create', 'Write', 'None', 1)
            try { while ($true) { $filler.Write([byte[]]::new(4096), 0, 4096) } } catch [IO.IOException] { } finally { $filler.Dispose() }
            $script = {
                param($Path)
                $ds = Import-Csv $PenguinsCsv | ConvertTo-IsaacDataset -Target species -MissingValue Drop -WarningAction SilentlyContinue
                $t = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 32) -Model ($ds | New-IsaacMlp 8) -LearningRate 0.01 `
                    -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics -Metric Accuracy), (New-IsaacCallback CsvLogger -Path $Path -Append)
                $out = Invoke-IsaacFit $t -Epochs 2 -ProgressAction SilentlyContinue -WarningVariable warned -WarningAction SilentlyContinue
                "records: $(@($out | Where-Object { $_ }).Count), errors: $($Error.Count)"
                "$($Error[0])"
                "$warned"
            }
            $full = Invoke-InNewRunspace ([scriptblock]::Create("& { $script } '$path'"))
            $full.Output[0] | Should -Be 'records: 0, errors: 1'
            $full.Output[1] | Should -BeLike "*CsvLoggerCB could not write epoch 0's row to $path*The file keeps the rows before it, whole.*"
            [IO.File]::ReadAllText($path) | Should -Be $text -Because 'the row the disk cut off is taken back'

            # As a full disk left a log before rows were written whole: the next -Append fit takes the cut row away.
            Remove-Item (Join-Path $disk 'filler')
            [IO.File]::WriteAllText($path, "Accuracy,train_loss,valid_loss,epoch,elapsed`n0.5,1.2,1.1,0,0.1`n1,1,0.002152")
            $mended = Invoke-InNewRunspace ([scriptblock]::Create("& { $script } '$path'"))
            $mended.Output[0] | Should -Be 'records: 2, errors: 0'
            $mended.Output[2] | Should -Be "$path ended in a row cut off by a failed write ('1,1,0.002152', 3 of 5 fields); it was taken away before appending."
            $rows = Import-Csv $path
            $rows.epoch | Should -Be '0', '0', '1'
            $rows | ForEach-Object { $_.elapsed | Should -Not -BeNullOrEmpty }
        }
        finally {
            & umount $disk 2>&1 | Out-Null
            if ($LASTEXITCODE -ne 0) { & umount -l $disk }
        }
    }

    It 'logs each epoch once across a kill and a resume with -Append' {
        $path = Join-Path (Get-PSDrive TestDrive).Root 'resumed.csv'
        $make = { New-PenguinTrainer -Callback (New-IsaacCallback CsvLogger -Path $path -Append), (New-IsaacCallback Checkpoint -Path 'TestDrive:/csv-run.isaacckpt') }
        $killed = & $make
        # dies after epoch 2's row is written (CsvLogger, order 10) but before its checkpoint (order 20)
        Add-IsaacCallback $killed after_epoch { if ($_.Epoch -eq 2 -and -not $_.Training) { Stop-IsaacFit } } -Order 15 | Out-Null
        Invoke-IsaacFit $killed -Epochs 5 | Out-Null
        (Import-Csv $path).epoch | Should -Be '0', '1', '2'
        Invoke-IsaacFit (& $make) -Epochs 5 -Resume TestDrive:/csv-run.isaacckpt | Out-Null
        (Import-Csv $path).epoch | Should -Be '0', '1', '2', '3', '4'
        # a resumed fit goes on in the same file without -Append too, keeping the epochs before the checkpoint
        $plain = New-PenguinTrainer -Callback (New-IsaacCallback CsvLogger -Path $path), (New-IsaacCallback Checkpoint -Path 'TestDrive:/csv-plain.isaacckpt')
        Add-IsaacCallback $plain after_epoch { if ($_.Epoch -eq 1 -and -not $_.Training) { Stop-IsaacFit } } -Order 25 | Out-Null
        Invoke-IsaacFit $plain -Epochs 4 | Out-Null
        Invoke-IsaacFit (New-PenguinTrainer -Callback (New-IsaacCallback CsvLogger -Path $path), (New-IsaacCallback Checkpoint -Path 'TestDrive:/csv-plain.isaacckpt')) -Epochs 4 -Resume TestDrive:/csv-plain.isaacckpt | Out-Null
        (Import-Csv $path).epoch | Should -Be '0', '1', '2', '3'
    }
}

Describe 'Gradient clipping and accumulation' {
    It 'clips the gradient norm to -MaxNorm before each step' {
        $clip = New-IsaacCallback GradientClip -MaxNorm 0.05
        $t = New-PenguinTrainer -Callback $clip
        $norms = [System.Collections.Generic.List[double]]::new()
        Add-IsaacCallback $t step {
            $sum = 0.0
            foreach ($p in $_.Model.parameters()) { $sum += [double]$p.grad.pow([TorchSharp.Scalar]2).sum().item[float]() }
            $norms.Add([math]::Sqrt($sum))
        }.GetNewClosure() -Order -5 | Out-Null
        Invoke-IsaacFit $t -NoValid | Out-Null
        $clip.LastNorm | Should -BeGreaterThan 0.05
        ($norms | Measure-Object -Maximum).Maximum | Should -BeLessOrEqual 0.0501
    }

    It 'steps once every -Steps batches' {
        $t = New-PenguinTrainer -Callback (New-IsaacCallback GradientAccumulation -Steps 3)
        $steps = [System.Collections.Generic.List[int]]::new()
        Add-IsaacCallback $t step { $steps.Add($_.Iter) }.GetNewClosure() | Out-Null
        Invoke-IsaacFit $t -NoValid | Out-Null
        $batches = $t.Dls.Train.BatchCount
        $expected = @(0..($batches - 1) | Where-Object { ($_ + 1) % 3 -eq 0 -or $_ -eq $batches - 1 })
        $steps | Should -Be $expected
    }
}

Describe 'Add-IsaacCallback -Before and -After' {
    It 'places a callback by name whatever the orders, shows it in Get-IsaacCallback, and refuses cycles and unknown names' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
        Add-IsaacCallback $t before_fit {} -Name first -Order 100 -Before MetricsCB | Out-Null
        Add-IsaacCallback $t before_fit {} -Name last -Order -100 -After first | Out-Null
        $order = (Get-IsaacCallback $t | Where-Object Hook -eq 'before_fit').Name
        $order | Should -Be 'first', 'last', 'MetricsCB' # last (order -100) need only follow first
        $e = { Add-IsaacCallback $t before_fit {} -Name loop -Before first -After last } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidCallbackOrder,*'
        $e.Exception.Message | Should -BeLike '*cycle*'
        $t.Callbacks.Name | Should -Not -Contain 'loop'
        { Add-IsaacCallback $t before_fit {} -After nobody } | Should -Throw -ExpectedMessage '*name no callback of this trainer: nobody*'
        $global:completionTrainer = $t
        $line = 'Add-IsaacCallback $global:completionTrainer before_fit {} -After f'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'first'
        Remove-Variable completionTrainer -Scope Global
        Invoke-IsaacFit $t | Out-Null
    }
}
