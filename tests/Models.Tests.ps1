BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    [TorchSharp.torch]::set_num_threads(1)
    # A user's own TorchSharp module, as a PowerShell user would compile it.
    $script:PenguinNetSource = @'
using TorchSharp;
using static TorchSharp.torch;
public class PenguinNet : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear hidden, output;
    public PenguinNet(int inputs, int classes) : base("PenguinNet")
    {
        hidden = nn.Linear(inputs, 16);
        output = nn.Linear(16, classes);
        RegisterComponents();
    }
    public override Tensor forward(Tensor x)
    {
        using var h = hidden.call(x);
        using var a = nn.functional.relu(h);
        return output.call(a);
    }
}
'@
    $script:rows = Import-Csv $PenguinsCsv
    $script:complete = $rows | Where-Object { $_.sex -ne 'NA' -and $_.bill_length_mm -ne 'NA' }

    function New-PenguinTrainer([string] $Target, [object] $Model, [string] $MissingValue = 'Drop') {
        Set-IsaacSeed 3
        $ds = $rows | ConvertTo-IsaacDataset -Target $Target -MissingValue $MissingValue -WarningAction SilentlyContinue -InformationAction Ignore
        if (-not $Model) { $Model = $ds | New-IsaacMlp -HiddenSize 16 }
        New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 32) -Model $Model -LearningRate 0.02
    }
}

Describe 'ConvertTo-IsaacDataset' {
    It 'turns Import-Csv rows into stratified train and valid splits with the fitted preprocessing' {
        $ds = $complete | ConvertTo-IsaacDataset -Target species -ValidFraction 0.25
        $ds['train'].Count + $ds['valid'].Count | Should -Be $complete.Count
        $ds.Target.Classes | Should -Be 'Adelie', 'Chinstrap', 'Gentoo'
        # island (3 categories) + sex (2) one-hot, and 5 numbers
        $ds.Processor.Width | Should -Be 10
        ($ds.Processor.Features | Where-Object Kind -EQ Category).Name | Should -Be 'island', 'sex'
        foreach ($class in 0..2) {
            $inValid = @($ds['valid'].Y.data[long]().ToArray() | Where-Object { $_ -eq $class }).Count
            $all = @($complete | Where-Object species -EQ $ds.Target.Classes[$class]).Count
            $inValid | Should -Be ([math]::Round($all * 0.25, [MidpointRounding]::AwayFromZero))
        }
    }

    It 'reads numbers in the invariant culture whatever the session culture' {
        $culture = [cultureinfo]::CurrentCulture
        try {
            [cultureinfo]::CurrentCulture = 'de-DE'
            $ds = $complete | ConvertTo-IsaacDataset -Target body_mass_g -Feature bill_length_mm
            $ds.Target.Task | Should -Be Regression
            $ds.Target.Mean | Should -BeGreaterThan 3000
            $ds.Target.Mean | Should -BeLessThan 6000
            $ds.Processor.Features[0].Mean | Should -BeGreaterThan 30 -Because 'bill lengths like 39.1 must not read as 391'
        }
        finally { [cultureinfo]::CurrentCulture = $culture }
    }

    It 'stops at missing values by default with one error naming the row, the column and the count' {
        $record = { $rows | ConvertTo-IsaacDataset -Target species } | Should -Throw -ErrorId 'InvalidTabularData,*' -PassThru
        $record.Exception.Message | Should -Match "Row 4 has no value for 'bill_length_mm'"
        $record.Exception.Message | Should -Match '11 of 344 rows'
        $record.Exception.Message | Should -Match 'Drop'
        $record.TargetObject | Should -Be 'bill_length_mm'
        # As a user runs it ($ErrorActionPreference Continue, no try): one error, no output, and the script goes on.
        $run = Invoke-InNewRunspace { $out = Import-Csv $PenguinsCsv | ConvertTo-IsaacDataset -Target species; "went on: $($null -eq $out), errors: $($Error.Count)" }
        $run.Output | Should -Be 'went on: True, errors: 1'
    }

    It 'drops, or fills in, missing values on request' {
        $dropped = $rows | ConvertTo-IsaacDataset -Target species -MissingValue Drop -WarningVariable warned -WarningAction SilentlyContinue
        $dropped['train'].Count + $dropped['valid'].Count | Should -Be 333
        "$warned" | Should -Match 'Left out 11 of 344'
        $filled = $rows | ConvertTo-IsaacDataset -Target species -MissingValue Mean -InformationAction Ignore
        $filled['train'].Count + $filled['valid'].Count | Should -Be 344
        ($filled.Processor.Features | Where-Object Name -EQ sex).Fill | Should -BeIn 'male', 'female'
    }

    It 'takes objects from ConvertFrom-Json and hashtables, with typed values' {
        $json = 1..30 | ForEach-Object { @{ x = $_ * 0.5; colour = @('red', 'blue')[$_ % 2]; y = $_ * 1.5 + 0.25 } } | ConvertTo-Json | ConvertFrom-Json
        $ds = $json | ConvertTo-IsaacDataset -Target y
        $ds.Target.Task | Should -Be Regression
        $ds.Processor.Width | Should -Be 3
        $tables = 1..10 | ForEach-Object { @{ a = $_; label = if ($_ -le 5) { 'low' } else { 'high' } } }
        ($tables | ConvertTo-IsaacDataset -Target label).Target.Classes | Should -Be 'high', 'low'
    }

    It 'stops at one value that is not a number in a column of numbers, naming the column, the row and the value' {
        # As a user runs it: a fresh runspace, $ErrorActionPreference Continue, no try.
        $run = Invoke-InNewRunspace {
            $rows = Import-Csv $PenguinsCsv | Where-Object { $_.sex -ne 'NA' -and $_.bill_length_mm -ne 'NA' }
            $rows[9].bill_depth_mm = 'abc'
            $out = $rows | ConvertTo-IsaacDataset -Target species
            "went on: $($null -eq $out), errors: $($Error.Count)"
            $Error[0].FullyQualifiedErrorId
            $Error[0].Exception.Message
            $Error[0].TargetObject
        }
        $run.Output[0] | Should -Be 'went on: True, errors: 1'
        $run.Output[1] | Should -Be 'InvalidTabularData,Isaacai.PowerShell.Commands.ConvertToIsaacDatasetCommand'
        $run.Output[2] | Should -BeLike "Row 10, column 'bill_depth_mm': 'abc' is not a number*332 of the column's 333 values are numbers*-Category*" -Because 'one typo made 198 categories'
        $run.Output[3] | Should -Be 'bill_depth_mm'
    }

    It 'reads a column named in -Category as categories, warning about the value that is not a number' {
        $rows = $complete | ForEach-Object { $_.psobject.Copy() }
        $rows[4].year = 'unknown'
        $ds = $rows | ConvertTo-IsaacDataset -Target species -Category year -WarningVariable warned -WarningAction SilentlyContinue
        ($ds.Processor.Features | Where-Object Name -EQ year).Categories | Should -Be '2007', '2008', '2009', 'unknown'
        "$warned" | Should -Be "Row 5, column 'year': 'unknown' is not a number, yet 332 of the column's 333 values are; the column is read as categories, as asked."
    }

    It 'refuses decimal commas, as Export-Csv writes numbers under de-DE, instead of making a 198-class target' {
        $file = Join-Path $TestDrive 'de-DE.csv'
        $culture = [cultureinfo]::CurrentCulture
        try {
            [cultureinfo]::CurrentCulture = 'de-DE'
            $complete | Select-Object species, @{ n = 'bill'; e = { [double] $_.bill_length_mm } }, @{ n = 'mass_kg'; e = { [double] $_.body_mass_g / 1000 } } | Export-Csv $file
        }
        finally { [cultureinfo]::CurrentCulture = $culture }
        $record = { Import-Csv $file | ConvertTo-IsaacDataset -Target mass_kg } | Should -Throw -ErrorId 'InvalidTabularData,*' -PassThru
        # The target is read first.
        $record.Exception.Message | Should -BeLike "Row 1, column 'mass_kg': '3,75' is not a number: numbers are read in the invariant culture, with a decimal point (3.75)*"
        $record = { Import-Csv $file | ConvertTo-IsaacDataset -Target species } | Should -Throw -ErrorId 'InvalidTabularData,*' -PassThru
        $record.Exception.Message | Should -BeLike "Row 1, column 'bill': '39,1' is not a number*"
    }

    It 'takes Infinity for an error and NaN for a missing value, never for numbers' {
        $rows = $complete | ForEach-Object { $_.psobject.Copy() }
        $rows[2].flipper_length_mm = 'Infinity'
        { $rows | ConvertTo-IsaacDataset -Target species } | Should -Throw "Row 3, column 'flipper_length_mm': 'Infinity' is not a finite number*"
        $rows[2].flipper_length_mm = 'NaN'
        { $rows | ConvertTo-IsaacDataset -Target species } | Should -Throw "Row 3 has no value for 'flipper_length_mm'*"
    }

    It 'refuses a number beyond float32 in the data and, at prediction, a row or a tensor that would give a NaN probability' {
        $rows = $complete | ForEach-Object { $_.psobject.Copy() }
        $rows[6].body_mass_g = '1e308'
        { $rows | ConvertTo-IsaacDataset -Target species } | Should -Throw "Row 7, column 'body_mass_g': 1e308 is beyond the range of float32*"
        $run = Invoke-InNewRunspace {
            $complete = Import-Csv $PenguinsCsv | Where-Object { $_.sex -ne 'NA' -and $_.bill_length_mm -ne 'NA' }
            $ds = $complete | ConvertTo-IsaacDataset -Target species
            $trainer = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 32) -Model ($ds | New-IsaacMlp 8) -LearningRate 0.01
            $huge = $complete[0].psobject.Copy(); $huge.body_mass_g = '1e39'
            $out = @($complete[1], $huge) | Invoke-IsaacPredict $trainer
            "rows: $(@($out).Count), probability finite: $([double]::IsFinite($out[0].Probability)), errors: $($Error.Count)"
            $Error[0].FullyQualifiedErrorId
            $Error[0].Exception.Message
            $Error.Clear()
            $nan = [TorchSharp.torch]::full([long[]] (3, $ds.Processor.Width), [double]::NaN)
            $fromTensor = Invoke-IsaacPredict $trainer $nan
            "tensor predictions: $($null -ne $fromTensor), errors: $($Error.Count)"
            $Error[0].FullyQualifiedErrorId
            $Error[0].Exception.Message
        }
        $run.Output[0] | Should -Be 'rows: 1, probability finite: True, errors: 1'
        $run.Output[1] | Should -Be 'InvalidRow,Isaacai.PowerShell.Commands.InvokeIsaacPredictCommand'
        $run.Output[2] | Should -BeLike "Row 2, column 'body_mass_g': 1e39 is beyond the range of float32*"
        $run.Output[3] | Should -Be 'tensor predictions: False, errors: 1'
        $run.Output[4] | Should -BeLike 'PredictionFailed,*'
        $run.Output[5] | Should -BeLike "The model's output for sample 1 (of 3; 3 samples in all) is not a finite number*"
    }

    It 'refuses two keys that differ only in case, naming both, at training and at prediction' {
        $rows = foreach ($i in 1..20) {
            $row = [hashtable]::new([StringComparer]::Ordinal)
            $row.Age = $i; $row.age = 100 - $i; $row.label = @('a', 'b')[$i % 2]
            $row
        }
        $record = { $rows | ConvertTo-IsaacDataset -Target label } | Should -Throw -ErrorId 'InvalidTabularData,*' -PassThru
        $record.Exception.Message | Should -Match "The columns '(Age|age)' and '(Age|age)' differ only in case"
        $plain = foreach ($i in 1..20) { @{ Age = $i; label = @('a', 'b')[$i % 2] } }
        $ds = $plain | ConvertTo-IsaacDataset -Target label
        $trainer = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 8) -Model ($ds | New-IsaacMlp 4) -LearningRate 0.01
        $out = $rows[0] | Invoke-IsaacPredict $trainer -ErrorVariable failed -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        "$failed" | Should -Match "The keys '(Age|age)' and '(Age|age)' differ only in case"
    }

    It 'refuses a one-hot category column of more than 1000 categories, naming it, its count and embeddings' {
        $rows = foreach ($i in 1..1500) { [pscustomobject]@{ id = "p$i"; size = $i % 7; label = @('a', 'b')[$i % 2] } }
        { $rows | ConvertTo-IsaacDataset -Target label -Feature id, size } | Should -Throw "The column 'id' has 1500 categories, one per row as an ID has; a one-hot category column takes at most 1000*CategoryEncoding Embedding*"
        ($rows | ConvertTo-IsaacDataset -Target label -Feature size).Processor.Width | Should -Be 1
    }

    It 'shows classes, not a mean and std, for a class target, and no statistics for category columns' {
        $ds = $complete | ConvertTo-IsaacDataset -Target species
        $target = $ds.Target | Out-String
        $target | Should -Match 'Classes : Adelie, Chinstrap, Gentoo'
        $target | Should -Not -Match 'Mean|Std'
        $features = ($ds.Processor.Features | Out-String -Width 200) -split "`n"
        $features | Where-Object { $_ -match '^island ' } | Should -Match '^island\s+Category\s+Biscoe, Dream, Torgersen\s*$'
        $features | Where-Object { $_ -match '^bill_length_mm ' } | Should -Match '^bill_length_mm\s+Numeric\s+4\d\.\d+\s+\d\.\d+\s*$'
        $regression = ($complete | ConvertTo-IsaacDataset -Target body_mass_g).Target | Out-String
        $regression | Should -Match 'Mean\s+: 4\d{3}'
        $regression | Should -Not -Match 'Classes'
    }

    It 'names an unknown target or feature with the columns there are' {
        { $complete | ConvertTo-IsaacDataset -Target Species2 } | Should -Throw "*no column 'Species2'*species, island*"
        { $complete | ConvertTo-IsaacDataset -Target species -Feature island, beak } | Should -Throw "*no feature column 'beak'*"
        { @() | ConvertTo-IsaacDataset -Target species } | Should -Throw '*No objects came in*'
    }
}

Describe 'New-IsaacMlp and New-IsaacConvNet' {
    It 'sizes an MLP from a dataset, and rejects sizes that contradict it' {
        $ds = $complete | ConvertTo-IsaacDataset -Target species
        $mlp = $ds | New-IsaacMlp -HiddenSize 32, 16 -Activation GELU -Dropout 0.1 -BatchNorm
        $mlp.Options.InputSize | Should -Be 10
        $mlp.Options.OutputSize | Should -Be 3
        $mlp.Options.HiddenSize | Should -Be 32, 16
        @($mlp.state_dict().Keys) | Should -Contain 'layers.1.running_mean'
        { New-IsaacMlp -HiddenSize 8 -Dataset $ds -InputSize 5 } | Should -Throw '*-InputSize 5 does not match the dataset, which implies 10*'
        { New-IsaacMlp -HiddenSize 8 } | Should -Throw '*Give -InputSize*'
    }

    It 'trains a ConvNet on Fashion-MNIST images and predicts class names from a tensor' {
        Set-IsaacSeed 1
        $dd = Get-IsaacDataset -Sample 512 -Seed 2
        $net = $dd | New-IsaacConvNet
        $net.Options.OutputSize | Should -Be 10
        $t = New-IsaacTrainer -DataLoaders ($dd | New-IsaacDataLoaders -BatchSize 64) -Model $net -LearningRate 0.01
        $record = Invoke-IsaacFit $t -Epochs 2 -ProgressAction SilentlyContinue | Select-Object -Last 1
        $record.Accuracy | Should -BeGreaterThan 0.3
        $images = $dd['test'].X.narrow(0, 0, 5)
        $predictions = @(Invoke-IsaacPredict $t -InputObject $images)
        $predictions.Count | Should -Be 5
        $predictions[0].Prediction | Should -BeIn ([Isaacai.Data.FashionMnist]::Target.Classes)
        ($predictions[0].Probabilities.PSObject.Properties.Value | Measure-Object -Sum).Sum | Should -BeGreaterThan 0.999
    }
}

Describe 'Export-IsaacModel, Import-IsaacModel and Invoke-IsaacPredict' {
    It 'predicts the same in a new session as before the export (classification)' {
        $t = New-PenguinTrainer species
        Invoke-IsaacFit $t -Epochs 4 -ProgressAction SilentlyContinue | Out-Null
        $path = Join-Path $TestDrive 'species.isaac'
        Export-IsaacModel $t $path
        $before = @($complete | Select-Object -First 40 | Invoke-IsaacPredict $t)
        $before.Count | Should -Be 40
        $before[0].species | Should -Be 'Adelie' -Because 'the input object comes back with its own properties'
        $after = Invoke-InNewProcess @"
`$m = Import-IsaacModel '$path'
@(Import-Csv '$PenguinsCsv' | Where-Object { `$_.sex -ne 'NA' -and `$_.bill_length_mm -ne 'NA' } | Select-Object -First 40 | Invoke-IsaacPredict `$m |
    ForEach-Object { [pscustomobject]@{ Prediction = `$_.Prediction; Probability = `$_.Probability.ToString('R') } }) | ConvertTo-Json -Compress
"@
        $after.Prediction | Should -Be $before.Prediction
        $after.Probability | Should -Be ($before | ForEach-Object { $_.Probability.ToString('R') })
        ($before.Prediction | Where-Object { $_ -in 'Adelie', 'Chinstrap', 'Gentoo' }).Count | Should -Be 40
    }

    It 'predicts numbers in the target''s own units in a new session (regression)' {
        $t = New-PenguinTrainer body_mass_g -MissingValue Mean
        $record = Invoke-IsaacFit $t -Epochs 8 -ProgressAction SilentlyContinue | Select-Object -Last 1
        $record.Rmse | Should -BeLessThan 800 -Because 'RMSE is in grams: the masses spread over about 800 g'
        $path = Join-Path $TestDrive 'mass.isaac'
        Export-IsaacModel $t $path
        $before = @($rows | Select-Object -First 10 | Invoke-IsaacPredict $t).Prediction
        ($before | Measure-Object -Average).Average | Should -BeGreaterThan 2500
        $after = Invoke-InNewProcess "@(Import-Csv '$PenguinsCsv' | Select-Object -First 10 | Invoke-IsaacPredict (Import-IsaacModel '$path') | ForEach-Object { `$_.Prediction.ToString('R') }) | ConvertTo-Json"
        $after | Should -Be ($before | ForEach-Object { $_.ToString('R') })
    }

    It 'reports a row with an unknown category or a missing value as one error, and predicts the others' {
        $t = New-PenguinTrainer species
        $batch = @($complete | Select-Object -First 3 | ForEach-Object { $_.PSObject.Copy() })
        $batch[1].island = 'Atlantis'
        $errors = $null
        $out = @($batch | Invoke-IsaacPredict $t -ErrorVariable errors -ErrorAction SilentlyContinue)
        $out.Count | Should -Be 2
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidRow,*'
        $errors[0].Exception.Message | Should -Match "Row 2, column 'island': the category 'Atlantis' was not seen in training. Known categories: Biscoe, Dream, Torgersen"
        $batch[1].island = 'Dream'; $batch[1].sex = 'NA'
        $out = @($batch | Invoke-IsaacPredict $t -ErrorVariable errors -ErrorAction SilentlyContinue)
        $errors[0].Exception.Message | Should -Match "Row 2 has no value for 'sex'"
    }

    It 'writes atomically, honours -WhatIf and -NoClobber, and exports PyTorch-readable weights' {
        $t = New-PenguinTrainer species
        $path = Join-Path $TestDrive 'w.isaac'
        Export-IsaacModel $t $path -WhatIf
        Test-Path $path | Should -BeFalse
        Export-IsaacModel $t $path
        { Export-IsaacModel $t $path -NoClobber } | Should -Throw -ErrorId 'ModelFileExists,*'
        Export-IsaacModel $t $path
        @(Get-ChildItem $TestDrive -Filter '*.partial' -Force).Count | Should -Be 0
        $weights = Join-Path $TestDrive 'w.safetensors'
        Export-IsaacModel $t $weights
        $copy = New-IsaacMlp -HiddenSize 16 -InputSize 10 -OutputSize 3
        $raw = Import-IsaacModel $weights -Model $copy
        $x = [TorchSharp.torch]::randn([long[]](4, 10))
        $raw.Outputs($x).data[float]().ToArray() | Should -Be ([Isaacai.Inference.Predictor]::new($t.Model).Outputs($x).data[float]().ToArray())
        { Import-IsaacModel $weights } | Should -Throw '*holds only weights*'
    }

    It 'gives one clear error for a missing, truncated or foreign file' {
        { Import-IsaacModel (Join-Path $TestDrive 'none.isaac') } | Should -Throw -ErrorId 'ModelFileNotFound,*'
        $t = New-PenguinTrainer species
        $path = Join-Path $TestDrive 'cut.isaac'
        Export-IsaacModel $t $path
        $bytes = [IO.File]::ReadAllBytes($path)
        [IO.File]::WriteAllBytes($path, $bytes[0..($bytes.Length / 2)])
        { Import-IsaacModel $path } | Should -Throw -ErrorId 'InvalidModelFile,*'
        Set-Content (Join-Path $TestDrive 'text.isaac') 'hello, not a model'
        { Import-IsaacModel (Join-Path $TestDrive 'text.isaac') } | Should -Throw '*is not a model file Isaacai reads: not an Isaacai model (.isaac), a safetensors file, or a PyTorch state dict*'
    }
}

Describe 'A model of your own, compiled with Add-Type' {
    BeforeAll {
        if (-not ('PenguinNet' -as [type])) {
            Add-Type -CompilerOptions '-nowarn:CS1701' -ReferencedAssemblies (Join-Path $env:ISAACAI_MODULE 'TorchSharp.dll') -TypeDefinition $PenguinNetSource
        }
    }

    It 'trains, exports, and predicts the same in a new session given a new instance; refuses a mismatch and leaves it unchanged' {
        $t = New-PenguinTrainer species -Model ([PenguinNet]::new(10, 3))
        Invoke-IsaacFit $t -Epochs 3 -ProgressAction SilentlyContinue | Out-Null
        $path = Join-Path $TestDrive 'own.isaac'
        Export-IsaacModel $t $path
        $before = @($complete | Select-Object -First 20 | Invoke-IsaacPredict $t).Prediction
        { Import-IsaacModel $path } | Should -Throw '*holds a model of your own (PenguinNet)*pass a new instance*'
        $wrong = [PenguinNet]::new(10, 4)
        $weightsBefore = $wrong.state_dict()['output.weight'].data[float]().ToArray()
        { Import-IsaacModel $path -Model $wrong } | Should -Throw "*'output.weight' is ``[3, 16``] in the file but ``[4, 16``] in the model*"
        $wrong.state_dict()['output.weight'].data[float]().ToArray() | Should -Be $weightsBefore
        $after = Invoke-InNewProcess @"
Add-Type -CompilerOptions '-nowarn:CS1701' -ReferencedAssemblies '$env:ISAACAI_MODULE/TorchSharp.dll' -TypeDefinition @'
$PenguinNetSource
'@
`$m = Import-IsaacModel '$path' -Model ([PenguinNet]::new(10, 3))
@(Import-Csv '$PenguinsCsv' | Where-Object { `$_.sex -ne 'NA' -and `$_.bill_length_mm -ne 'NA' } | Select-Object -First 20 | Invoke-IsaacPredict `$m).Prediction | ConvertTo-Json
"@
        $after | Should -Be $before
    }
}
