BeforeAll { . (Join-Path $PSScriptRoot 'TestHelpers.ps1') }

Describe 'Hook semantics through scriptblocks' {
    It 'runs every hook in the seed''s order' {
        $trace = [System.Collections.Generic.List[string]]::new()
        $t = New-TinyTrainer
        Add-IsaacCallback $t -Hooks (New-TraceHooks $trace) | Out-Null
        Invoke-IsaacFit $t -Epochs 2 | Out-Null
        $trace | Should -Be @(Get-NormalTrace -Epochs 2)
    }

    It 'skips the rest of a batch and its after_batch on a CancelBatchException thrown from a scriptblock' {
        $trace = [System.Collections.Generic.List[string]]::new()
        $t = New-TinyTrainer
        Add-IsaacCallback $t -Hooks (New-TraceHooks $trace -At predict -Do { throw [Isaacai.CancelBatchException]::new() }) | Out-Null
        Invoke-IsaacFit $t -NoValid | Out-Null
        $trace | Should -Be (@('before_fit', 'before_epoch', 'before_batch', 'predict', 'cleanup_batch') + $TrainBatch + $TrainBatch + @('after_epoch', 'cleanup_epoch', 'after_fit', 'cleanup_fit'))
    }

    It 'skips the rest of an epoch on Stop-IsaacEpoch' {
        $trace = [System.Collections.Generic.List[string]]::new()
        $t = New-TinyTrainer
        Add-IsaacCallback $t -Hooks (New-TraceHooks $trace -At before_batch -OnCall 2 -Do { Stop-IsaacEpoch }) | Out-Null
        Invoke-IsaacFit $t -NoValid | Out-Null
        $trace | Should -Be (@('before_fit', 'before_epoch') + $TrainBatch + @('before_batch', 'cleanup_batch', 'cleanup_epoch', 'after_fit', 'cleanup_fit'))
    }

    It 'skips the rest of the fit on Stop-IsaacFit, and cleanup_fit still runs' {
        $trace = [System.Collections.Generic.List[string]]::new()
        $t = New-TinyTrainer
        Add-IsaacCallback $t -Hooks (New-TraceHooks $trace -At after_epoch -Do { Stop-IsaacFit }) | Out-Null
        Invoke-IsaacFit $t -Epochs 3 | Out-Null
        $trace | Should -Be (@('before_fit', 'before_epoch') + $TrainBatch * 3 + @('after_epoch', 'cleanup_epoch', 'cleanup_fit'))
    }

    It 'treats Stop-IsaacBatch like the exception it throws' {
        $trace = [System.Collections.Generic.List[string]]::new()
        $t = New-TinyTrainer
        Add-IsaacCallback $t -Hooks (New-TraceHooks $trace -At step -OnCall 3 -Do { Stop-IsaacBatch }) | Out-Null
        Invoke-IsaacFit $t -NoValid | Out-Null
        ($trace | Where-Object { $_ -eq 'after_batch' }).Count | Should -Be 2
        ($trace | Where-Object { $_ -eq 'cleanup_batch' }).Count | Should -Be 3
    }

    It 'ends the fit with an ErrorRecord naming hook, callback and script position, after running cleanups' {
        $trace = [System.Collections.Generic.List[string]]::new()
        $t = New-TinyTrainer
        Add-IsaacCallback $t -Hooks (New-TraceHooks $trace) -Name Tracer | Out-Null
        Add-IsaacCallback $t get_loss { if ($_.Iter -eq 1) { $missing = $null; $missing.Nothing() } } -Name Broken | Out-Null
        $caught = $null
        try { Invoke-IsaacFit $t -NoValid | Out-Null } catch { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike 'ScriptCallbackFailed*'
        $caught.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $caught.Exception | Should -BeOfType ([Isaacai.PowerShell.ScriptCallbackException])
        $caught.Exception.Hook | Should -Be 'get_loss'
        $caught.Exception.CallbackName | Should -Be 'Broken'
        $caught.Exception.ScriptName | Should -Be $PSCommandPath
        $caught.Exception.ScriptLineNumber | Should -BeGreaterThan 0
        $caught.Exception.Message | Should -Match 'get_loss hook of callback ''Broken'''
        $trace[-3..-1] | Should -Be 'cleanup_batch', 'cleanup_epoch', 'cleanup_fit'
        # The trainer is still usable afterwards.
        Remove-IsaacCallback $t -Name Broken
        $trace.Clear()
        Invoke-IsaacFit $t | Out-Null
        $trace | Should -Be @(Get-NormalTrace)
    }

    It 'passes the trainer as $_, $args[0] and param($trainer), with properties in any case' {
        $seen = @{}
        $t = New-TinyTrainer
        Add-IsaacCallback $t before_fit { param($trainer) $seen.Param = $trainer; $seen.Args = $args.Count } | Out-Null
        Add-IsaacCallback $t after_fit { $seen.Dollar = $_; $seen.First = $args[0]; $seen.Lower = $_.nepochs } | Out-Null
        Invoke-IsaacFit $t -Epochs 2 | Out-Null
        $seen.Param | Should -Be $t
        $seen.Dollar | Should -Be $t
        $seen.First | Should -Be $t
        $seen.Lower | Should -Be 2
    }

    It 'runs hooks by name through the trainer, as the seed''s run_callbacks does' {
        $trace = [System.Collections.Generic.List[string]]::new()
        $t = New-TinyTrainer
        Add-IsaacCallback $t -Hooks @{ predict = { $trace.Add('predict') }; get_loss = { $trace.Add('get_loss') } } | Out-Null
        $t.RunCallbacks('get_loss', 'predict')
        $trace | Should -Be 'get_loss', 'predict'
    }

    It 'runs callbacks by order, ties in the order they were added' {
        $trace = [System.Collections.Generic.List[string]]::new()
        $t = New-TinyTrainer
        Add-IsaacCallback $t before_fit { $trace.Add('a') } -Order 2 | Out-Null
        Add-IsaacCallback $t before_fit { $trace.Add('b') } -Order -1 | Out-Null
        Add-IsaacCallback $t before_fit { $trace.Add('c') } | Out-Null
        Add-IsaacCallback $t BeforeFit { $trace.Add('d') } | Out-Null
        Invoke-IsaacFit $t -Epochs 0 | Out-Null
        $trace | Should -Be 'b', 'c', 'd', 'a'
    }
}

Describe 'PowerShell class callbacks' {
    BeforeAll {
        # Class bodies resolve types when parsed, so this class is defined once the module is loaded.
        . ([scriptblock]::Create(@'
class RecordingCallback {
    [int] $Order = -3
    [System.Collections.Generic.List[string]] $Trace = [System.Collections.Generic.List[string]]::new()
    [void] before_fit($trainer) { $this.Trace.Add("before_fit $($trainer.NEpochs)") }
    [void] AfterBatch($trainer) { $this.Trace.Add('after_batch'); if ($trainer.Iter -eq 1) { throw [Isaacai.CancelEpochException]::new() } }
    [void] cleanup_fit() { $this.Trace.Add('cleanup_fit') }
    [string] Describe() { return 'not a hook' }
}
'@))
    }

    It 'runs methods named after hooks, in seed or Pascal case, honouring the Order property' {
        $callback = [RecordingCallback]::new()
        $t = New-TinyTrainer
        $added = Add-IsaacCallback $t -Callback $callback
        $added.Order | Should -Be -3
        $added.Name | Should -Be 'RecordingCallback'
        $added.Hooks | Should -Be 'before_fit', 'cleanup_fit', 'after_batch'
        Invoke-IsaacFit $t -Epochs 2 -NoValid | Out-Null
        $callback.Trace | Should -Be 'before_fit 2', 'after_batch', 'after_batch', 'after_batch', 'after_batch', 'cleanup_fit'
    }

    It 'lets -Order and -Name override the class' {
        $t = New-TinyTrainer
        $added = Add-IsaacCallback $t -Callback ([RecordingCallback]::new()) -Order 7 -Name Mine
        ($added.Order, $added.Name) | Should -Be 7, 'Mine'
    }

    It 'rejects an object with no hook methods, with an error listing the hooks' {
        $t = New-TinyTrainer
        { Add-IsaacCallback $t -Callback ([pscustomobject]@{ A = 1 }) } | Should -Throw -ErrorId 'NotACallback,*' -ExpectedMessage '*before_fit*cleanup_batch*'
    }
}

Describe 'Add-IsaacCallback' {
    It 'adds a C# callback object and returns it' {
        $t = New-TinyTrainer
        $cb = [Isaacai.Callbacks.BasicTrainCB]::new()
        $added = Add-IsaacCallback $t -Callback $cb -Order 3
        $added | Should -Be $cb
        $cb.Order | Should -Be 3
        $t.Callbacks | Should -Contain $cb
    }

    It 'takes the trainer from the pipeline and a hashtable of hooks' {
        $t = New-TinyTrainer
        $added = $t | Add-IsaacCallback -Hooks @{ BeforeFit = {}; after_fit = {} } -Name Pair
        $added.Name | Should -Be 'Pair'
        $added.Hooks | Should -Be 'before_fit', 'after_fit'
    }

    It 'rejects an unknown hook name, listing the valid ones and the nearest' {
        $t = New-TinyTrainer
        { Add-IsaacCallback $t after_bach {} } | Should -Throw -ErrorId 'UnknownHook,*' -ExpectedMessage "*Did you mean 'after_batch'?*before_fit*"
        { Add-IsaacCallback $t -Hooks @{ befor_fit = {} } } | Should -Throw -ExpectedMessage "*Did you mean 'before_fit'?*"
        $t.Callbacks.Count | Should -Be 0
    }

    It 'completes hook names with Tab, in both spellings' {
        $line = 'Add-IsaacCallback $t -Hook after_b'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'after_batch'
        $line = 'Add-IsaacCallback $t -Hook AfterE'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'AfterEpoch'
    }
}

Describe 'Get-IsaacCallback and Remove-IsaacCallback' {
    It 'lists, per hook, the callbacks in the order they will run' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        Add-IsaacCallback $t predict { } -Name Late -Order 5 | Out-Null
        Add-IsaacCallback $t predict { } -Name Early -Order -5 | Out-Null
        $rows = Get-IsaacCallback $t -Hook Predict
        $rows.Name | Should -Be 'Early', 'BasicTrainCB', 'Late'
        $rows.Position | Should -Be 1, 2, 3
        $rows.Hook | Select-Object -Unique | Should -Be 'predict'
        (Get-IsaacCallback $t).Hook | Select-Object -Unique | Should -Be 'predict', 'get_loss', 'backward', 'step', 'zero_grad'
    }

    It 'removes by name (wildcards too) or by object, and reports a missing one' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
        $script = Add-IsaacCallback $t after_batch { } -Name Mine
        Remove-IsaacCallback $t -Name Basic*
        $t.Callbacks.Name | Should -Be 'MetricsCB', 'Mine'
        $script | Remove-IsaacCallback $t
        $t.Callbacks.Name | Should -Be 'MetricsCB'
        Remove-IsaacCallback $t -Name Nope -ErrorVariable problem -ErrorAction SilentlyContinue
        $problem[0].FullyQualifiedErrorId | Should -BeLike 'CallbackNotFound*'
        $problem[0].Exception.Message | Should -BeLike '*MetricsCB*'
    }

    It 'supports -WhatIf' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        Remove-IsaacCallback $t -Name BasicTrainCB -WhatIf
        $t.Callbacks.Count | Should -Be 1
    }
}

Describe 'Tab completion of callback names' {
    It 'completes Remove-IsaacCallback -Name with the names of that trainer''s callbacks' {
        $global:completionTrainer = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
        Add-IsaacCallback $global:completionTrainer before_fit {} -Name 'my hook' | Out-Null
        try {
            $line = 'Remove-IsaacCallback $global:completionTrainer -Name '
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'BasicTrainCB', 'MetricsCB', "'my hook'"
            $line = 'Remove-IsaacCallback $global:completionTrainer me'
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'MetricsCB'
        }
        finally { Remove-Variable completionTrainer -Scope Global }
    }
}

Describe 'Tab completion of devices' {
    It 'completes New-IsaacCallback Device -Device with the devices torch has here' {
        $line = 'New-IsaacCallback Device -Device '
        $expected = if ([TorchSharp.torch+cuda]::is_available()) { @('cpu', 'cuda') + @(0..([TorchSharp.torch+cuda]::device_count() - 1) | ForEach-Object { "cuda:$_" }) } else { 'cpu' }
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be $expected
    }
}

Describe 'Tab completion of hook names inside -Hooks @{ }' {
    It 'offers the seed''s hook names as keys, and any spelling still converts' {
        $line = 'Add-IsaacCallback $t -Hooks @{ after_'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'after_batch', 'after_epoch', 'after_fit'
        $line = 'Add-IsaacCallback $t -Hooks @{ before_fit = {}; cl'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'cleanup_batch', 'cleanup_epoch', 'cleanup_fit'
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        (Add-IsaacCallback $t -Hooks @{ AfterBatch = {}; before_fit = {} }).Scripts.Keys | Sort-Object | Should -Be 'BeforeFit', 'AfterBatch'
        { Add-IsaacCallback $t -Hooks @{ befor_fit = {} } } | Should -Throw -ErrorId 'UnknownHook,*'
    }
}
