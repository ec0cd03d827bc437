BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    [TorchSharp.torch]::set_num_threads(1)
    Set-IsaacSeed 5
    $ds = Import-Csv $PenguinsCsv | ConvertTo-IsaacDataset -Target species -MissingValue Mean -WarningAction SilentlyContinue -InformationAction Ignore
    $script:tabular = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 32) -Model ($ds | New-IsaacMlp -HiddenSize 8 -BatchNorm -Dropout 0.1) -LearningRate 0.01
    Invoke-IsaacFit $tabular -Epochs 1 | Out-Null

    # A file written by the command must be exactly the graph the engine makes of the same model (compared as
    # base64: Should -Be on a byte array compares element by element, slowly).
    function Assert-OnnxFile([string] $Path, $Predictor, [long[]] $InputShape) {
        [Convert]::ToBase64String([IO.File]::ReadAllBytes($Path)) | Should -BeExactly ([Convert]::ToBase64String([Isaacai.Onnx.OnnxExport]::ToBytes($Predictor, $InputShape)))
    }
}

Describe 'Export-IsaacModel to ONNX' {
    It 'writes an .onnx path as ONNX: the graph of the trainer''s model with its preprocessing, opset 17' {
        $path = Join-Path $TestDrive 'penguins.onnx'
        $messages = @(Export-IsaacModel $tabular $path -Verbose 4>&1)
        $messages[-1] | Should -Match 'Wrote .* \(\d[\d,]* bytes\)'
        Assert-OnnxFile $path ([Isaacai.Inference.Predictor]::FromTrainer($tabular)) $null
        $text = [Text.Encoding]::UTF8.GetString([IO.File]::ReadAllBytes($path))
        foreach ($name in 'island', 'sex', 'bill_length_mm', 'LabelEncoder', 'ai.onnx.ml', 'probabilities', 'label', 'Adelie', 'Chinstrap') { $text | Should -BeLike "*$name*" }
        @(Get-ChildItem $TestDrive -Force).Name | Should -Be 'penguins.onnx'
    }

    It '-Format Onnx writes ONNX whatever the extension; -Format Isaac an .isaac file to an .onnx path' {
        $path = Join-Path $TestDrive 'model.bin'
        Export-IsaacModel $tabular $path -Format Onnx
        Assert-OnnxFile $path ([Isaacai.Inference.Predictor]::FromTrainer($tabular)) $null
        $isaac = Join-Path $TestDrive 'really-isaac.onnx'
        Export-IsaacModel $tabular $isaac -Format Isaac
        (Import-IsaacModel $isaac).Target.Classes | Should -Be 'Adelie', 'Chinstrap', 'Gentoo'
    }

    It 'takes the sample shape of a trainer on tensors, and exports a conv net and a predictor' {
        $t = New-IsaacTrainer -DataLoaders (New-IsaacDataLoaders $IsaacTestData -BatchSize 16) -Model (New-IsaacConvNet -Dataset $IsaacTestData) -LearningRate 0.01
        $path = Join-Path $TestDrive 'conv.onnx'
        Export-IsaacModel $t $path
        Assert-OnnxFile $path ([Isaacai.Inference.Predictor]::FromTrainer($t)) (1, 28, 28)
        $saved = Join-Path $TestDrive 'conv.isaac'
        Export-IsaacModel $t $saved
        $predictor = Import-IsaacModel $saved
        $predictor | Export-IsaacModel -Path (Join-Path $TestDrive 'from-predictor.onnx') # a predictor binds from the pipeline
        Assert-OnnxFile (Join-Path $TestDrive 'from-predictor.onnx') $predictor $null
    }

    It 'honours -WhatIf and -NoClobber, leaving no partial file' {
        $path = Join-Path $TestDrive 'guarded.onnx'
        Export-IsaacModel $tabular $path -WhatIf
        $path | Should -Not -Exist
        Export-IsaacModel $tabular $path
        $before = (Get-FileHash $path).Hash
        { Export-IsaacModel $tabular $path -NoClobber } | Should -Throw -ErrorId 'ModelFileExists,*'
        (Get-FileHash $path).Hash | Should -Be $before
        @(Get-ChildItem $TestDrive -Filter '*.partial' -Force).Count | Should -Be 0
    }

    It 'refuses a model with a layer of the user''s own in one error naming it, and writes nothing' {
        Add-Type -CompilerOptions '-nowarn:CS1701' -ReferencedAssemblies (Join-Path $env:ISAACAI_MODULE 'TorchSharp.dll') -TypeDefinition @'
using static TorchSharp.torch;
public sealed class OnnxTestSquare : nn.Module<Tensor, Tensor>
{
    public OnnxTestSquare() : base("OnnxTestSquare") { }
    public override Tensor forward(Tensor input) => input * input;
}
'@
        $model = [TorchSharp.torch+nn]::Sequential([TorchSharp.torch+nn]::Flatten(), [TorchSharp.torch+nn]::Linear(784, 10), [OnnxTestSquare]::new())
        $t = New-IsaacTrainer -DataLoaders (New-IsaacDataLoaders $IsaacTestData -BatchSize 16) -Model $model -LearningRate 0.01
        $path = Join-Path $TestDrive 'custom.onnx'
        $failed = { Export-IsaacModel $t $path } | Should -Throw -ErrorId 'ModelNotExportable,*' -PassThru
        $failed.CategoryInfo.Category | Should -Be 'NotImplemented'
        $failed.Exception.Message | Should -BeLike "The model cannot be exported to ONNX: its layer '2' is a OnnxTestSquare, *Layers that export: *Linear*"
        $path | Should -Not -Exist
        @(Get-ChildItem $TestDrive -Filter '*.partial' -Force).Count | Should -Be 0
        Export-IsaacModel $t (Join-Path $TestDrive 'custom.isaac') # the .isaac file still takes it
    }
}
