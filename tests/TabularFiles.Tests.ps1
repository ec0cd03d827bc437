BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    [TorchSharp.torch]::set_num_threads(1)

    # The float32 bit patterns of a tensor, to compare datasets bit for bit.
    function Get-Bits($Tensor) { $Tensor.data[float]().ToArray() | ForEach-Object { [BitConverter]::SingleToInt32Bits($_) } }

    function New-PenguinModel([string] $MissingValue = 'Mean') {
        Set-IsaacSeed 3
        $ds = Import-Csv $PenguinsCsv | ConvertTo-IsaacDataset -Target species -MissingValue $MissingValue -WarningAction SilentlyContinue -InformationAction Ignore
        $trainer = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 32) -Model ($ds | New-IsaacMlp -HiddenSize 16) -LearningRate 0.02
        $null = Invoke-IsaacFit $trainer -Epochs 2
        $trainer
    }
}

Describe 'ConvertTo-IsaacDataset -Path' {
    It 'makes from a CSV file the dataset that Import-Csv''s objects make, bit for bit' {
        $fromObjects = Import-Csv $PenguinsCsv | ConvertTo-IsaacDataset -Target species -MissingValue Mean -Category year -InformationAction Ignore
        $fromFile = ConvertTo-IsaacDataset -Path $PenguinsCsv -Target species -MissingValue Mean -Category year -InformationAction Ignore
        $fromFile.Processor.Features | Should -HaveCount $fromObjects.Processor.Features.Count
        for ($i = 0; $i -lt $fromObjects.Processor.Features.Count; $i++) {
            $fromFile.Processor.Features[$i].Equals($fromObjects.Processor.Features[$i]) | Should -BeTrue -Because $fromObjects.Processor.Features[$i].Name
        }
        foreach ($split in 'train', 'valid') {
            $fromFile[$split].X.shape | Should -Be $fromObjects[$split].X.shape
            Get-Bits $fromFile[$split].X | Should -Be (Get-Bits $fromObjects[$split].X)
            $fromFile[$split].Y.data[long]().ToArray() | Should -Be ($fromObjects[$split].Y.data[long]().ToArray())
        }
    }

    It 'reads TSV and takes a relative path, as other commands do' {
        $tsv = Join-Path $TestDrive 'penguins.tsv'
        Import-Csv $PenguinsCsv | Export-Csv $tsv -Delimiter "`t" -UseQuotes AsNeeded
        Push-Location $TestDrive
        try { $ds = ConvertTo-IsaacDataset -Path ./penguins.tsv -Target species -MissingValue Drop -WarningAction SilentlyContinue }
        finally { Pop-Location }
        $ds['train'].Count + $ds['valid'].Count | Should -Be 333
    }

    It 'says what is wrong with a bad file, naming it and the line, in one error and no dataset' {
        $bad = Join-Path $TestDrive 'bad.csv'
        Set-Content $bad "a,b,label`n1,2,x`n3,4,5,y`n" -NoNewline
        $run = Invoke-InNewRunspace ([scriptblock]::Create(@"
`$out = ConvertTo-IsaacDataset -Path '$bad' -Target label
"went on: `$(`$null -eq `$out), errors: `$(`$Error.Count)"
`$Error[0].FullyQualifiedErrorId
`$Error[0].Exception.Message
"@))
        $run.Output[0] | Should -Be 'went on: True, errors: 1'
        $run.Output[1] | Should -Be 'UnreadableTableFile,Isaacai.PowerShell.Commands.ConvertToIsaacDatasetCommand'
        $run.Output[2] | Should -BeLike "$($bad): line 3 has 4 fields; the header has 3 (a, b, label)*"

        { ConvertTo-IsaacDataset -Path (Join-Path $TestDrive 'none.csv') -Target label } | Should -Throw -ErrorId 'TableFileNotFound,*'
        { ConvertTo-IsaacDataset -Path $PenguinsCsv -Target species -Feature island, wings } | Should -Throw -ErrorId 'InvalidTabularData,*' -ExpectedMessage "*: there is no column 'wings'. The file's columns are: species, island,*"
    }
}

Describe 'An array given to -InputObject is rows' {
    It 'makes the same dataset as the pipeline' {
        $rows = Import-Csv $PenguinsCsv
        $piped = $rows | ConvertTo-IsaacDataset -Target species -MissingValue Drop -WarningAction SilentlyContinue
        $given = ConvertTo-IsaacDataset -InputObject $rows -Target species -MissingValue Drop -WarningAction SilentlyContinue
        Get-Bits $given['train'].X | Should -Be (Get-Bits $piped['train'].X)
    }

    It 'predicts each row, given by name or by position' {
        $trainer = New-PenguinModel
        $rows = @(Import-Csv $PenguinsCsv | Select-Object -First 5)
        $piped = @($rows | Invoke-IsaacPredict $trainer).Prediction
        @(Invoke-IsaacPredict $trainer -InputObject $rows).Prediction | Should -Be $piped
        @(Invoke-IsaacPredict $trainer $rows).Prediction | Should -Be $piped
        $piped | Should -HaveCount 5
    }
}

Describe 'Invoke-IsaacPredict on hashtables and absent properties' {
    BeforeAll { $script:trainer = New-PenguinModel }

    It 'gives a hashtable row back as an object whose Prediction a user sees' {
        $model = Join-Path $TestDrive 'penguins.isaac'
        Export-IsaacModel $trainer $model
        $run = Invoke-InNewRunspace ([scriptblock]::Create(@"
`$r = @{ island = 'Biscoe'; bill_length_mm = 45.2; bill_depth_mm = 14.8; flipper_length_mm = 212; body_mass_g = 5200; sex = 'female'; year = 2008 } |
    Invoke-IsaacPredict (Import-IsaacModel '$model')
(`$r | Format-Table | Out-String -Width 300)
"`$(`$r.Prediction) `$(`$r.island) `$(([pscustomobject]`$r).Prediction) `$(`$Error.Count)"
"@))
        $run.Output[0] | Should -Match 'Prediction'
        $run.Output[0] | Should -Match 'Adelie|Chinstrap|Gentoo'
        $run.Output[1] | Should -Match '^(Adelie|Chinstrap|Gentoo) Biscoe (Adelie|Chinstrap|Gentoo) 0$'
    }

    It 'gives Probabilities as one read-only number per class, which display, ConvertTo-Json and Export-Csv show' {
        $row = [pscustomobject]@{ island = 'Biscoe'; bill_length_mm = 45.2; bill_depth_mm = 14.8; flipper_length_mm = 212; body_mass_g = 5200; sex = 'female'; year = 2008 }
        $r = $row | Invoke-IsaacPredict $trainer
        $r.Probabilities.PSObject.Properties.Name | Should -Be 'Adelie', 'Chinstrap', 'Gentoo'
        $r.Probabilities.($r.Prediction) | Should -Be $r.Probability
        $json = $r | ConvertTo-Json | ConvertFrom-Json
        $json.Probabilities.PSObject.Properties.Name | Should -Be 'Adelie', 'Chinstrap', 'Gentoo'
        $json.Probabilities.($r.Prediction) | Should -Be $r.Probability
        ($r | Format-List | Out-String -Width 300) | Should -Match 'Probabilities\s*:\s*@\{Adelie=[0-9.E-]+; Chinstrap=[0-9.E-]+; Gentoo=[0-9.E-]+\}'
        $csv = Join-Path $TestDrive 'predicted.csv'
        $r | Export-Csv $csv
        (Import-Csv $csv).Probabilities | Should -BeLike '@{Adelie=*; Chinstrap=*; Gentoo=*}'
        $before = $r.Probabilities.Adelie
        { $r.Probabilities.Adelie = 2 } | Should -Throw "A prediction's class probabilities are read-only*"
        $r.Probabilities.Adelie | Should -Be $before
        # A nested object (ConvertFrom-Json's) comes back as it went in.
        ($row | Select-Object *, @{ n = 'meta'; e = { [pscustomobject]@{ k = 1 } } } | Invoke-IsaacPredict $trainer).meta.k | Should -Be 1
        # PSObject.Copy() makes a row of its own.
        $copy = $r.PSObject.Copy()
        $copy.Prediction = 'changed'
        $r.Prediction | Should -Not -Be 'changed'
    }

    It 'refuses a value that is not a row, and a row with none of the model''s columns, naming each by its place among the inputs' {
        $row = [pscustomobject]@{ island = 'Biscoe'; bill_length_mm = 45.2; bill_depth_mm = 14.8; flipper_length_mm = 212; body_mass_g = 5200; sex = 'female'; year = 2008 }
        $out = @($row, 'hello', 42, $null, [pscustomobject]@{ Island2 = 'Biscoe' }, $row | Invoke-IsaacPredict $trainer -ErrorVariable failed -ErrorAction SilentlyContinue)
        $out.Count | Should -Be 2
        $out.island | Should -Be 'Biscoe', 'Biscoe'
        $failed.Count | Should -Be 3
        "$($failed[0])" | Should -BeLike "Row 2 is a String ('hello'), not a row: give objects with properties*"
        "$($failed[1])" | Should -BeLike "Row 3 is an Int32 ('42'), not a row*"
        "$($failed[2])" | Should -BeLike "Row 5 has none of this model's columns (island, *); its properties are Island2.*"
        $failed.FullyQualifiedErrorId | Should -Be (@('InvalidRow,Isaacai.PowerShell.Commands.InvokeIsaacPredictCommand') * 3)
        # And for a dataset: one terminating error, naming the row.
        $rows = 1..30 | ForEach-Object { [pscustomobject]@{ x = $_; y = $_ % 2 } }
        { @($rows[0..9]) + 'hello' + @($rows[10..29]) | ConvertTo-IsaacDataset -Target y } | Should -Throw "Row 11 is a String ('hello'), not a row*"
    }

    It 'warns once that the rows'' own Prediction and Probability are replaced' {
        $rows = Import-Csv $PenguinsCsv | Select-Object -First 3 | Select-Object *, @{ n = 'Prediction'; e = { 'mine' } }, @{ n = 'probability'; e = { 1 } }
        $out = @($rows | Invoke-IsaacPredict $trainer -WarningVariable replaced -WarningAction SilentlyContinue)
        $replaced.Count | Should -Be 1
        "$replaced" | Should -BeLike 'Row 1 has properties of its own named Prediction and probability: in the rows given back, the prediction replaces them.*'
        $out.Prediction | Should -Not -Contain 'mine'
    }

    It 'takes an absent property for a missing value, filled as in training' {
        $row = [pscustomobject]@{ island = 'Biscoe'; bill_length_mm = 45.2; bill_depth_mm = 14.8; flipper_length_mm = 212; sex = 'female'; year = 2008 }
        $withNull = $row | Select-Object *, @{ n = 'body_mass_g'; e = { $null } }
        $absent = $row | Invoke-IsaacPredict $trainer
        $absent.Probability | Should -Be ($withNull | Invoke-IsaacPredict $trainer).Probability
        $absent.PSObject.Properties.Name | Should -Not -Contain 'body_mass_g'
    }

    It 'names the absent property when the model fills nothing in' {
        $strict = New-PenguinModel -MissingValue Drop
        $row = [pscustomobject]@{ island = 'Biscoe'; bill_length_mm = 45.2 }
        $out = $row | Invoke-IsaacPredict $strict -ErrorVariable failed -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        "$failed" | Should -BeLike "Row 1 has no property 'bill_depth_mm'; this model needs *, and was trained with MissingValue Drop, which fills nothing in."
    }
}

Describe 'Invoke-IsaacPredict -Path -OutFile' {
    BeforeAll {
        $script:trainer = New-PenguinModel
        $script:PenguinsModel = Join-Path $TestDrive 'penguins.isaac'
        Export-IsaacModel $trainer $PenguinsModel
    }

    It 'writes each row of the file with the prediction that the same row as an object gets' {
        $out = Join-Path $TestDrive 'predicted.csv'
        $file = Invoke-IsaacPredict $trainer -Path $PenguinsCsv -OutFile $out
        $file.FullName | Should -Be $out
        # As Get-Item gives it: through the provider, so its mode and size show and it has a PSPath; a dot-file too.
        $file.PSPath | Should -Be (Get-Item $out).PSPath
        $hidden = Invoke-IsaacPredict $trainer -Path $PenguinsCsv -OutFile (Join-Path $TestDrive '.predicted.csv')
        $hidden.Name | Should -Be '.predicted.csv'
        $hidden.Length | Should -Be (Get-Item $out).Length
        $written = @(Import-Csv $out)
        $objects = @(Import-Csv $PenguinsCsv | Invoke-IsaacPredict $trainer)
        $written.Count | Should -Be 344
        $written.Prediction | Should -Be $objects.Prediction
        $written.Probability | Should -Be ($objects.Probability | ForEach-Object { $_.ToString('R', [cultureinfo]::InvariantCulture) })
        $written[0].island | Should -Be 'Torgersen'
        (Get-Content $out -TotalCount 1) | Should -Be 'species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year,Prediction,Probability'
    }

    It 'fills in a column the file lacks, as a missing value, and says so once; a file with none of the columns is an error' {
        $noSex = Join-Path $TestDrive 'no-sex.csv'
        Import-Csv $PenguinsCsv | Select-Object -Property * -ExcludeProperty sex | Export-Csv $noSex
        $out = Join-Path $TestDrive 'no-sex-predicted.csv'
        $null = Invoke-IsaacPredict $trainer -Path $noSex -OutFile $out -WarningVariable filled -WarningAction SilentlyContinue
        $filled.Count | Should -Be 1
        "$filled" | Should -BeLike "$noSex lacks this model's column 'sex' (filled with *): each row's value is missing, and filled in as in training (MissingValue Mean).*"
        @(Import-Csv $out).Count | Should -Be 344
        $elsewhere = Join-Path $TestDrive 'elsewhere.csv'
        Set-Content $elsewhere "a,b`n1,2"
        { Invoke-IsaacPredict $trainer -Path $elsewhere -OutFile (Join-Path $TestDrive 'never2.csv') } | Should -Throw "$elsewhere`: none of this model's columns (*"
    }

    It 'writes no file, and leaves an existing one as it was, on a bad row; one error names the file and line' {
        $bad = Join-Path $TestDrive 'bad.csv'
        $lines = @(Get-Content $PenguinsCsv -TotalCount 30)
        $lines[20] = $lines[20] -replace 'Torgersen', 'Atlantis'
        Set-Content $bad $lines
        $out = Join-Path $TestDrive 'out.csv'
        Set-Content $out 'keep me'
        $run = Invoke-InNewRunspace ([scriptblock]::Create(@"
`$result = Invoke-IsaacPredict (Import-IsaacModel '$PenguinsModel') -Path '$bad' -OutFile '$out'
"went on: `$(`$null -eq `$result), errors: `$(`$Error.Count)"
`$Error[0].FullyQualifiedErrorId
`$Error[0].Exception.Message
"@))
        $run.Output[0] | Should -Be 'went on: True, errors: 1'
        $run.Output[1] | Should -Be 'UnreadableTableFile,Isaacai.PowerShell.Commands.InvokeIsaacPredictCommand'
        $run.Output[2] | Should -BeLike "$($bad), line 21: Row 20, column 'island': the category 'Atlantis' was not seen in training*"
        Get-Content $out | Should -Be 'keep me'
        Get-ChildItem $TestDrive -Force -Filter '.out.csv.partial' | Should -BeNullOrEmpty
        Invoke-IsaacPredict $trainer -Path $PenguinsCsv -OutFile (Join-Path $TestDrive 'never.csv') -WhatIf
        Test-Path (Join-Path $TestDrive 'never.csv') | Should -BeFalse
    }
}

Describe 'Class labels keep their type' {
    It 'gives whole-number labels back as the numbers they went in as, also from a saved model; text stays text' {
        $rows = 1..90 | ForEach-Object { [pscustomobject]@{ x = $_ % 9; z = $_ * 0.1; y = $_ % 3 + 5 } } | ConvertTo-Json | ConvertFrom-Json
        $ds = $rows | ConvertTo-IsaacDataset -Target y
        $ds.Target.LabelType | Should -Be 'System.Int64'
        $trainer = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 16) -Model ($ds | New-IsaacMlp 8) -LearningRate 0.01
        $prediction = ($rows[0] | Invoke-IsaacPredict $trainer).Prediction
        $prediction | Should -BeOfType [long]
        $prediction | Should -BeIn 5, 6, 7
        $file = Join-Path $TestDrive 'labels.isaac'
        Export-IsaacModel $trainer $file
        ($rows[0] | Invoke-IsaacPredict (Import-IsaacModel $file)).Prediction | Should -BeOfType [long]

        $csv = Join-Path $TestDrive 'labels.csv'
        $rows | Export-Csv $csv
        $fromText = ConvertTo-IsaacDataset -Path $csv -Target y
        $fromText.Target.LabelType | Should -BeNullOrEmpty
    }
}
