BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    [TorchSharp.torch]::set_num_threads(1)

    Set-IsaacSeed 5
    $ds = Import-Csv $PenguinsCsv | ConvertTo-IsaacDataset -Target species -MissingValue Mean -WarningAction SilentlyContinue -InformationAction Ignore
    $script:trainer = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 32) -Model ($ds | New-IsaacMlp -HiddenSize 16) -LearningRate 0.02
    $null = Invoke-IsaacFit $trainer -Epochs 2

    # The penguins as objects of four shapes, by row: as Import-Csv gives them; their properties in the reverse
    # order; a hashtable; and without body_mass_g, with a Prediction property of their own.
    $script:penguins = @(Import-Csv $PenguinsCsv)
    $names = @($penguins[0].PSObject.Properties.Name)
    function ConvertTo-Shape([int] $Shape, $Row) {
        switch ($Shape) {
            0 { $Row }
            1 { $Row | Select-Object ($names[($names.Count - 1)..0]) }
            2 { $table = @{}; foreach ($name in $names) { $table[$name] = $Row.$name }; $table }
            3 { $Row | Select-Object -Property (@($names -ne 'body_mass_g') + @(@{ n = 'Prediction'; e = { 'mine' } })) }
        }
    }
}

Describe 'Invoke-IsaacPredict on rows of several shapes' {
    It 'predicts rows of mixed shapes in one pipeline as it predicts the rows as Import-Csv gives them, past thousands of rows' {
        # 13 times the 344 rows, past the 4,096 rows predicted at a time, the shapes taking turns.
        $rows = foreach ($i in 0..(13 * $penguins.Count - 1)) { ConvertTo-Shape ($i % 4) $penguins[$i % $penguins.Count] }
        $mixed = @($rows | Invoke-IsaacPredict $trainer -WarningAction SilentlyContinue) # shape 3's own Prediction is replaced, with a warning
        $mixed.Count | Should -Be $rows.Count
        $plain = @($penguins | Invoke-IsaacPredict $trainer)
        $noMass = @($penguins | ForEach-Object { $copy = $_.PSObject.Copy(); $copy.body_mass_g = 'NA'; $copy } | Invoke-IsaacPredict $trainer)
        $expected = foreach ($i in 0..($rows.Count - 1)) { if ($i % 4 -eq 3) { $noMass[$i % $penguins.Count] } else { $plain[$i % $penguins.Count] } }
        $mixed.Probability | Should -Be $expected.Probability
        $mixed.Prediction | Should -Be $expected.Prediction
        # Each row comes back with its own properties, in its order, then the prediction's.
        $mixed[0].PSObject.Properties.Name | Should -Be @($names + 'Prediction', 'Probability', 'Probabilities')
        $mixed[1].PSObject.Properties.Name | Should -Be @($names[($names.Count - 1)..0] + 'Prediction', 'Probability', 'Probabilities')
        $mixed[2].PSObject.Properties.Name | Sort-Object | Should -Be (@($names + 'Prediction', 'Probability', 'Probabilities') | Sort-Object)
        # A row's own Prediction is replaced in its place.
        $mixed[3].PSObject.Properties.Name | Should -Be @(($names -ne 'body_mass_g') + 'Prediction', 'Probability', 'Probabilities')
        $mixed[3].Prediction | Should -BeIn 'Adelie', 'Chinstrap', 'Gentoo'
        # Rows of one shape share their names, not their values.
        $mixed[1].island | Should -Be $penguins[1].island
        $mixed[5].bill_length_mm | Should -Be $penguins[5].bill_length_mm
        $mixed[9].Probabilities.PSObject.Properties.Name | Should -Be 'Adelie', 'Chinstrap', 'Gentoo'
        ($mixed[9].Probabilities.PSObject.Properties.Value | Measure-Object -Sum).Sum | Should -BeGreaterThan 0.999
    }

    It 'names the row of each bad row among good ones of other shapes, and predicts the others' {
        $twice = [hashtable]::new([StringComparer]::Ordinal)
        $twice['island'] = 'Biscoe'; $twice['ISLAND'] = 'Dream'; $twice['bill_length_mm'] = 40
        $rows = @(
            ConvertTo-Shape 0 $penguins[0]
            $twice
            ConvertTo-Shape 1 $penguins[1]
            [pscustomobject]@{ island = 'Atlantis'; bill_length_mm = 40 }
            ConvertTo-Shape 1 $penguins[2]
        )
        $out = @($rows | Invoke-IsaacPredict $trainer -ErrorVariable failed -ErrorAction SilentlyContinue)
        $out.Count | Should -Be 3
        $out.species | Should -Be $penguins[0..2].species
        $failed.Count | Should -Be 2
        $failed[0].Exception.Message | Should -Match "^The keys '(island|ISLAND)' and '(island|ISLAND)' differ only in case"
        $failed[0].Exception.Row | Should -Be 2
        $failed[1].Exception.Message | Should -BeLike "Row 4, column 'island': the category 'Atlantis' was not seen in training*"
    }
}

Describe 'ConvertTo-IsaacDataset on rows of several shapes' {
    It 'makes from mixed shapes the dataset that the rows as Import-Csv gives them make, bit for bit' {
        $rows = foreach ($i in 0..($penguins.Count - 1)) { ConvertTo-Shape ($i % 3) $penguins[$i] }
        $mixed = $rows | ConvertTo-IsaacDataset -Target species -MissingValue Mean -InformationAction Ignore
        $plain = $penguins | ConvertTo-IsaacDataset -Target species -MissingValue Mean -InformationAction Ignore
        $mixed.Processor.Features | Should -Be $plain.Processor.Features
        foreach ($split in 'train', 'valid') {
            $bits = { param($t) $t.data[float]().ToArray() | ForEach-Object { [BitConverter]::SingleToInt32Bits($_) } }
            & $bits $mixed[$split].X | Should -Be (& $bits $plain[$split].X)
            $mixed[$split].Y.data[long]().ToArray() | Should -Be ($plain[$split].Y.data[long]().ToArray())
        }
    }
}
