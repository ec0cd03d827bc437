BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    [TorchSharp.torch]::set_num_threads(1)

    # TensorBoard's reading of an event file: TFRecord frames, each CRC-32C (masked) checked, each an Event protobuf.
    function Read-TensorBoardEvent([string] $Folder) {
        function MaskedCrc([byte[]] $Bytes, [int] $Offset, [int] $Count) {
            [uint32] $crc = [uint32]::MaxValue
            for ($i = $Offset; $i -lt $Offset + $Count; $i++) { $crc = [System.Numerics.BitOperations]::Crc32C($crc, $Bytes[$i]) }
            $crc = -bnot $crc -band [uint32]::MaxValue
            [uint32] ((([uint64] ($crc -shr 15) -bor (([uint64] $crc -shl 17) -band [uint32]::MaxValue)) + 0xa282ead8) -band [uint32]::MaxValue)
        }
        foreach ($file in Get-ChildItem $Folder -Filter 'events.out.tfevents.*' | Sort-Object Name) {
            $bytes = [IO.File]::ReadAllBytes($file.FullName)
            $at = 0
            while ($at -lt $bytes.Length) {
                $length = [BitConverter]::ToUInt64($bytes, $at)
                if ((MaskedCrc $bytes $at 8) -ne [BitConverter]::ToUInt32($bytes, $at + 8)) { throw "$($file.Name): bad length CRC at byte $at" }
                if ((MaskedCrc $bytes ($at + 12) $length) -ne [BitConverter]::ToUInt32($bytes, $at + 12 + $length)) { throw "$($file.Name): bad data CRC at byte $at" }
                $data = [byte[]]::new($length)
                [Array]::Copy($bytes, $at + 12, $data, 0, $length)
                [Tensorboard.Event]::Parser.ParseFrom($data)
                $at += 16 + $length
            }
        }
    }

    function Get-Scalar($Events, [string] $Tag) {
        foreach ($e in $Events) {
            foreach ($v in $e.Summary.Value) { if ($v.Tag -eq $Tag) { [pscustomobject]@{ Step = $e.Step; Value = $v.SimpleValue } } }
        }
    }
}

Describe 'New-IsaacCallback TensorBoard' {
    It 'logs a fit where TensorBoard looks, with the records Invoke-IsaacFit writes, and -LogDir relative to the current location' {
        Push-Location TestDrive:\
        try { $cb = New-IsaacCallback TensorBoard -LogDir runs/exp1 -EveryBatches 2 -Histograms }
        finally { Pop-Location }
        $folder = Join-Path (Get-PSDrive TestDrive).Root 'runs/exp1'
        $cb.LogDir | Should -Be $folder
        $cb.Order | Should -Be 10
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics -Metric Accuracy), (New-IsaacCallback Tracking), $cb
        $records = Invoke-IsaacFit $t -Epochs 2

        $events = Read-TensorBoardEvent $folder
        $events[0].FileVersion | Should -Be 'brain.Event:2'
        $valid = Get-Scalar $events 'loss/valid'
        $valid.Step | Should -Be 3, 6
        $valid.Value | Should -Be ($records.valid_loss | ForEach-Object { [float] $_ })
        (Get-Scalar $events 'metrics/accuracy').Value | Should -Be ($records.Accuracy | ForEach-Object { [float] $_ })
        $tracking = $t.Callbacks | Where-Object Name -EQ 'TrackingCB'
        $batch = Get-Scalar $events 'loss/train_batch'
        $batch.Step | Should -Be 2, 4, 6
        $batch.Value | Should -Be ($tracking.TrainLosses[1, 3, 5] | ForEach-Object { [float] $_ })
        (Get-Scalar $events 'lr').Value | Should -Be ([float] 0.1), ([float] 0.1), ([float] 0.1)
        $histograms = @($events | ForEach-Object { $_.Summary.Value } | Where-Object { $_.Histo })
        ($histograms.Tag | Sort-Object -Unique) | Should -Be ($t.Model.named_parameters() | ForEach-Object { "parameters/$($_.Item1)" } | Sort-Object)
    }

    It 'goes on after the last step when Invoke-IsaacFit -Resume continues a saved fit' {
        $folder = Join-Path (Get-PSDrive TestDrive).Root 'runs/resumed'
        $make = { New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics), (New-IsaacCallback TensorBoard -LogDir $folder -EveryBatches 1) }
        $first = & $make
        Invoke-IsaacFit $first -Epochs 2 | Out-Null
        Save-IsaacCheckpoint $first TestDrive:/two.isaacckpt | Out-Null
        $records = Invoke-IsaacFit (& $make) -Epochs 4 -Resume TestDrive:/two.isaacckpt
        $records.epoch | Should -Be 2, 3
        @(Get-ChildItem $folder).Count | Should -Be 2
        $events = Read-TensorBoardEvent $folder
        (Get-Scalar $events 'loss/train_batch').Step | Should -Be (1..12)
        (Get-Scalar $events 'loss/valid').Step | Should -Be 3, 6, 9, 12
    }

    It 'refuses a bad setting, and predictions of a table, with one error each, the trainer still able to fit' {
        $e = { New-IsaacCallback TensorBoard -LogDir runs -EveryBatches 0 } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidCallbackArgument,*'
        $e.Exception.Message | Should -BeLike '*EveryBatches must be 1 or more*'

        $ds = Import-Csv $PenguinsCsv | ConvertTo-IsaacDataset -Target species -MissingValue Drop -WarningAction SilentlyContinue -InformationAction Ignore
        $t = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 32) -Model ($ds | New-IsaacMlp -HiddenSize 8) -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
        $folder = Join-Path (Get-PSDrive TestDrive).Root 'runs/table'
        Add-IsaacCallback $t -Callback (New-IsaacCallback TensorBoard -LogDir $folder -Predictions) | Out-Null
        $failure = { Invoke-IsaacFit $t } | Should -Throw -ErrorId 'FitFailed,*' -PassThru
        $failure.Exception.Message | Should -BeLike "*Predictions need images*a table's rows*Leave Predictions out*"
        Test-Path $folder | Should -BeFalse
        Remove-IsaacCallback $t -Name TensorBoardCB | Out-Null
        @(Invoke-IsaacFit $t).Count | Should -Be 1
    }
}
