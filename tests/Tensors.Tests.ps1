BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

Describe 'Tensors at the prompt' {
    It 'reads a one-element tensor as a number: $_.Loss.Value in a hook' {
        $losses = [System.Collections.Generic.List[object]]::new()
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        Add-IsaacCallback $t after_batch { $losses.Add($_.Loss.Value) } | Out-Null
        Invoke-IsaacFit $t -Epochs 1 -ProgressAction SilentlyContinue | Out-Null
        $losses.Count | Should -Be 6
        $losses | ForEach-Object { $_ | Should -BeOfType ([double]); [double]::IsFinite($_) | Should -BeTrue }
    }

    It 'gives a number of the tensor''s kind, null for a tensor of several elements, and all values through ToArray()' {
        $float = [TorchSharp.torch]::tensor([float]2.5)
        $long = [TorchSharp.torch]::tensor([long]7)
        $bool = [TorchSharp.torch]::tensor($true)
        ($float.Value, $long.Value, $bool.Value) | Should -Be 2.5, 7, $true
        $long.Value | Should -BeOfType ([long])
        $matrix = [TorchSharp.torch]::arange(6).reshape(2, 3)
        $matrix.Value | Should -BeNullOrEmpty
        $values = $matrix.ToArray()
        , $values | Should -BeOfType ([long[]])
        $values | Should -Be 0, 1, 2, 3, 4, 5
    }

    It 'multiplies a grad in place with a plain number, NaN included, where mul_ finds ambiguous overloads' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        $seen = @{}
        # After BasicTrain's backward (order 0), before its step: the grads are there to touch.
        Add-IsaacCallback $t backward {
            if ($seen.Count) { return }
            $grad = @($_.Model.parameters())[0].grad
            $seen.Ambiguous = try { $grad.mul_([double]::NaN); 'no error' } catch { $_.Exception.Message }
            $seen.Returned = $grad.MulInPlace([double]::NaN)
            $seen.AllNaN = @($grad.ToArray() | Where-Object { -not [double]::IsNaN($_) }).Count -eq 0
            Stop-IsaacFit
        } -Order 10 | Out-Null
        Invoke-IsaacFit $t -Epochs 1 -ProgressAction SilentlyContinue | Out-Null
        $seen.Ambiguous | Should -BeLike '*ambiguous overloads*'
        $seen.AllNaN | Should -BeTrue
        $seen.Returned | Should -BeOfType ([TorchSharp.torch+Tensor])
    }

    It 'scales, shifts, fills and clamps parameters in place, outside autograd' {
        $p = @((New-IsaacSimpleNet 784 8 10).parameters())[1]
        $p.requires_grad | Should -BeTrue
        $p.FillInPlace(2).MulInPlace(3).AddInPlace(-1).ToArray() | Select-Object -Unique | Should -Be 5
        $p.ClampInPlace(0, 4).ToArray() | Select-Object -Unique | Should -Be 4
        $p.requires_grad | Should -BeTrue
    }

    It 'shows shape, dtype, device and value instead of every property' {
        $text = [TorchSharp.torch]::ones(2, 3), [TorchSharp.torch]::tensor([float]0.25) | Out-String
        $lines = $text -split "`n" | Where-Object { $_.Trim() }
        $lines[0] | Should -Match '^Shape\s+DType\s+Device\s+RequiresGrad\s+Value'
        $lines[2] | Should -Match '^\[2, 3\]\s+Float32\s+cpu\s+False\s*$'
        $lines[3] | Should -Match '^\[\]\s+Float32\s+cpu\s+False\s+0.25$'
        $text | Should -Not -Match 'Handle|SparseIndices'
    }
}
