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
        { Import-IsaacModel (Join-Path $TestDrive 'text.isaac') } | Should -Throw '*not a safetensors file*'
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
