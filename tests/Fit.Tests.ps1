BeforeAll { . (Join-Path $PSScriptRoot 'TestHelpers.ps1') }

Describe 'Invoke-IsaacFit' {
    It 'writes one flat record per epoch with exactly the seed''s keys' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics -Metric Accuracy)
        $records = @(Invoke-IsaacFit $t -Epochs 2)
        $records.Count | Should -Be 2
        $records[0].PSObject.Properties.Name | Should -Be 'epoch', 'train_loss', 'valid_loss', 'Accuracy', 'elapsed'
        $records.epoch | Should -Be 0, 1
        $records[0].PSObject.TypeNames[0] | Should -Be 'Isaacai.EpochRecord'
        $records[1].Accuracy | Should -BeGreaterOrEqual 0
        $records[1].elapsed | Should -BeOfType ([double]) -Because 'seconds, as a number a spreadsheet can sum'
        $records[1].elapsed | Should -BeGreaterThan 0
    }

    It 'streams: the first record reaches the pipeline before the second epoch starts' {
        $events = [System.Collections.Generic.List[string]]::new()
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
        Add-IsaacCallback $t before_epoch { if ($_.Training) { $events.Add("start $($_.Epoch)") } } | Out-Null
        Invoke-IsaacFit $t -Epochs 2 | ForEach-Object { $events.Add("record $($_.epoch)") }
        $events | Should -Be 'start 0', 'record 0', 'start 1', 'record 1'
    }

    It 'round-trips through Export-Csv' {
        $path = Join-Path $TestDrive 'metrics.csv'
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics -Metric Accuracy)
        $records = Invoke-IsaacFit $t -Epochs 3 | Tee-Object -Variable written | Export-Csv -Path $path -NoTypeInformation
        $read = Import-Csv $path
        $read.Count | Should -Be 3
        ($read[0].PSObject.Properties.Name) | Should -Be 'epoch', 'train_loss', 'valid_loss', 'Accuracy', 'elapsed'
        (Get-Content $path -TotalCount 1) | Should -Be '"epoch","train_loss","valid_loss","Accuracy","elapsed"'
        [double]$read[2].train_loss | Should -Be $written[2].train_loss
        $read[2].elapsed | Should -Match '^\d+(\.\d+)?(E-?\d+)?$' -Because "elapsed is seconds, not a time span's text such as 00:00:00.0312150"
        [double]$read[2].elapsed | Should -Be $written[2].elapsed
        [int]$read[2].epoch | Should -Be 2
    }

    It 'takes the trainer from the pipeline, and -NoTrain / -NoValid leave phases out' {
        $trace = [System.Collections.Generic.List[string]]::new()
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
        Add-IsaacCallback $t -Hooks (New-TraceHooks $trace) | Out-Null
        $record = $t | Invoke-IsaacFit -NoValid
        $trace | Should -Be @(Get-NormalTrace -NoValid)
        $record.valid_loss | Should -BeNullOrEmpty
        $record = $t | Invoke-IsaacFit -NoTrain
        $record.train_loss | Should -BeNullOrEmpty
        $record.valid_loss | Should -BeGreaterThan 0
    }

    It 'ends the fit quietly, cleanups run, when a downstream command wants no more records' {
        $trace = [System.Collections.Generic.List[string]]::new()
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
        Add-IsaacCallback $t cleanup_fit { $trace.Add('cleanup_fit') } | Out-Null
        Add-IsaacCallback $t after_epoch { if ($_.Training) { $trace.Add("epoch $($_.Epoch)") } } | Out-Null
        $first = Invoke-IsaacFit $t -Epochs 50 | Select-Object -First 1
        $first.epoch | Should -Be 0
        $trace | Should -Be 'epoch 0', 'cleanup_fit'
    }

    It 'formats records as a table' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics -Metric Accuracy)
        $text = Invoke-IsaacFit $t | Format-Table | Out-String
        $text | Should -Match 'epoch\s+train_loss\s+valid_loss\s+metrics\s+elapsed'
        $text | Should -Match 'Accuracy 0\.\d{4}'
    }

    It 'sends the engine''s log to the Information stream and stays quiet under SilentlyContinue progress' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
        $ProgressPreference = 'SilentlyContinue'
        Invoke-IsaacFit $t -InformationVariable info | Out-Null
        $info.MessageData | Should -Match "^\{'train_loss'"
        $info.Tags | Should -Contain 'Isaacai'
        $t.Callbacks.Name | Should -Not -Contain 'ProgressCB'
        $ProgressPreference = 'Ignore'
        $seen = @{}
        Add-IsaacCallback $t before_fit { $seen.Progress = @($_.Callbacks | Where-Object Name -EQ 'ProgressCB').Count } -Name Probe | Out-Null
        Invoke-IsaacFit $t | Out-Null
        $seen.Progress | Should -Be 0
        Remove-IsaacCallback $t -Name Probe
        $verbose = Invoke-IsaacFit $t -Epochs 2 -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $verbose.Message | Should -Match '^Fitting 2 epoch\(s\).*BasicTrainCB, MetricsCB'
    }

    It 'reports nested progress (fit, epoch, batch) and removes its progress callback afterwards' {
        $run = Invoke-InNewRunspace {
            $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
            Invoke-IsaacFit $t -Epochs 2 | Out-Null
            $t.Callbacks.Name
        }
        $run.Output | Should -Be 'BasicTrainCB'
        $run.Progress.ActivityId | Select-Object -Unique | Sort-Object | Should -Be 1, 2, 3
        ($run.Progress | Where-Object ActivityId -EQ 3 | Select-Object -First 1).ParentActivityId | Should -Be 2
        ($run.Progress | Where-Object ActivityId -EQ 2 | Select-Object -First 1).ParentActivityId | Should -Be 1
        $run.Progress[-1].RecordType | Should -Be 'Completed'
    }

    It 'adds no second progress callback when the trainer has one' {
        $run = Invoke-InNewRunspace {
            $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Progress)
            $counts = @{}
            Add-IsaacCallback $t before_fit { $counts.During = @($_.Callbacks | Where-Object Name -EQ 'ProgressCB').Count } | Out-Null
            Invoke-IsaacFit $t | Out-Null
            $counts.During
            @($t.Callbacks | Where-Object Name -EQ 'ProgressCB').Count
        }
        $run.Output | Should -Be 1, 1
        $run.Progress.Count | Should -BeGreaterThan 0
    }

    It 'explains a cancel thrown outside its level, which ends the fit after cleanups' {
        $trace = [System.Collections.Generic.List[string]]::new()
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        Add-IsaacCallback $t before_fit { Stop-IsaacBatch } | Out-Null
        Add-IsaacCallback $t cleanup_fit { $trace.Add('cleanup_fit') } | Out-Null
        { Invoke-IsaacFit $t } | Should -Throw -ErrorId 'CancelOutsideItsLevel,*' -ExpectedMessage '*CancelBatchException was thrown where no batch was running*'
        $trace | Should -Be 'cleanup_fit'
    }

    It 'ends with an error record when the engine fails, and the trainer stays usable' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        $t.Model = New-IsaacSimpleNet 10 8 10   # wrong input size for 784-pixel images
        $failure = { Invoke-IsaacFit $t } | Should -Throw -ErrorId 'FitFailed,*' -PassThru
        $failure.ToString() | Should -BeLike "The fit failed at predict in callback 'BasicTrainCB': mat1 and mat2 shapes cannot be multiplied*"
        $failure.Exception.Message | Should -BeLike 'mat1 and mat2 shapes cannot be multiplied*'   # the engine's exception, unchanged
        $t.Model = New-IsaacSimpleNet 784 8 5   # too few outputs for labels 0-9
        $failure = { Invoke-IsaacFit $t } | Should -Throw -ErrorId 'FitFailed,*' -PassThru
        $failure.ToString() | Should -BeLike "The fit failed at get_loss in callback 'BasicTrainCB': Target * is out of bounds*"
        $t.Model = New-IsaacSimpleNet 784 8 10
        { Invoke-IsaacFit $t } | Should -Not -Throw
    }

    It 'stops at a batch boundary on a stop request (Ctrl+C), runs cleanup hooks, keeps finished records and the trainer' {
        $state = [hashtable]::Synchronized(@{ Records = 0; Trace = [System.Collections.Generic.List[string]]::new() })
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($helpers, $state)
                    . $helpers
                    $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
                    $state.Trainer = $t
                    Add-IsaacCallback $t -Hooks @{
                        after_batch   = { $state.Trace.Add('after_batch') }
                        cleanup_batch = { $state.Trace.Add('cleanup_batch') }
                        cleanup_epoch = { $state.Trace.Add('cleanup_epoch') }
                        cleanup_fit   = { $state.Trace.Add('cleanup_fit') }
                    } | Out-Null
                    Invoke-IsaacFit $t -Epochs 100000 | ForEach-Object { $state.Records++ }
                }).AddArgument((Join-Path $PSScriptRoot 'TestHelpers.ps1')).AddArgument($state)
            $handle = $ps.BeginInvoke()
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while ($state.Records -lt 2 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            $ps.Stop()
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $state.Records | Should -BeGreaterOrEqual 2
            $trace = $state.Trace.ToArray()
            $trace[-1] | Should -Be 'cleanup_fit'
            # The loop stopped at a batch boundary. PowerShell ends the one script the stop lands in (an
            # after_batch or a cleanup_batch, say), so their counts may differ by that one call, no more.
            $afterBatch, $cleanupBatch = ($trace -eq 'after_batch').Count, ($trace -eq 'cleanup_batch').Count
            [math]::Abs($afterBatch - $cleanupBatch) | Should -BeLessOrEqual 1 -Because "after_batch ran $afterBatch times, cleanup_batch $cleanupBatch"

            # The trainer is usable afterwards: fit it again in the same runspace.
            $ps.Commands.Clear()
            $fitAgain = $ps.AddScript({ param($state) @(Invoke-IsaacFit $state.Trainer -Epochs 1).Count }).AddArgument($state).Invoke()
            $fitAgain | Should -Be 1
        }
        finally { $ps.Dispose() }
    }
}
