BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    [TorchSharp.torch]::set_num_threads(1)
    $script:Fixtures = Join-Path $PSScriptRoot 'fixtures/pytorch'
    $script:MobileNetWeights = Join-Path $Fixtures 'mobilenet_v3_small-10.pt'
    # 40 Fashion-MNIST images per split, [N, 1, 28, 28], ten classes.
    $script:ds = $global:IsaacTestData
}

Describe 'New-IsaacVisionModel' {
    It 'sizes a torchvision architecture from a dataset: one channel in, one output per class' {
        Set-IsaacSeed 1
        $model = $ds | New-IsaacVisionModel resnet18
        $model | Should -BeOfType ([Isaacai.Models.Vision.VisionModel])
        $model.Options.InputChannels | Should -Be 1
        $model.Options.OutputSize | Should -Be 10
        $state = $model.state_dict()
        $state['conv1.weight'].shape | Should -Be 64, 1, 7, 7
        $state['fc.weight'].shape | Should -Be 10, 512
        @($state.Keys) | Should -Contain 'layer1.0.bn1.running_mean'
        ($model | Out-String) | Should -Match 'resnet18\s+10\s+1\s+11,175,370 False'
    }

    It 'takes sizes by hand, three channels by default, and refuses sizes that disagree with the dataset' {
        $model = New-IsaacVisionModel mobilenet_v2 -OutputSize 4
        $model.Options.InputChannels | Should -Be 3
        $model.state_dict()['classifier.1.weight'].shape | Should -Be 4, 1280
        { New-IsaacVisionModel resnet18 } | Should -Throw -ErrorId 'InvalidModelSize,*' -ExpectedMessage '*Give -OutputSize*'
        { $ds | New-IsaacVisionModel resnet18 -InputChannels 3 } | Should -Throw -ErrorId 'InvalidModelSize,*' -ExpectedMessage '*-InputChannels 3 does not match the dataset, which implies 1*'
    }

    It 'completes architecture names with Tab and refuses an unknown one listing the known ones' {
        $line = 'New-IsaacVisionModel mobilenet_v'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'mobilenet_v2', 'mobilenet_v3_large', 'mobilenet_v3_small'
        { New-IsaacVisionModel resnet19 -OutputSize 3 } | Should -Throw -ErrorId 'UnknownArchitecture,*' -ExpectedMessage "*'resnet19' is not a known vision architecture; known ones are resnet18, resnet34*alexnet."
    }

    It 'loads torchvision weights from a PyTorch file, skipping a head sized for other classes, and says so at -Verbose' {
        $verbose = $null
        $model = New-IsaacVisionModel mobilenet_v3_small -OutputSize 3 -WeightsPath $MobileNetWeights -Verbose 4>&1 | Tee-Object -Variable verbose | Where-Object { $_ -is [Isaacai.Models.Vision.VisionModel] }
        $model | Should -Not -BeNullOrEmpty
        ($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n" | Should -BeLike "*its head (classifier.3.weight, classifier.3.bias) is sized for other classes*ImageNet*"
        $model.state_dict()['features.0.1.num_batches_tracked'].item[long]() | Should -Be 3
    }

    It 'gives one error naming the file and the keys for weights that do not fit, and another for a missing file' {
        { New-IsaacVisionModel resnet18 -OutputSize 3 -WeightsPath $MobileNetWeights } | Should -Throw -ErrorId 'WeightsDoNotFit,*' -ExpectedMessage "*mobilenet_v3_small-10.pt does not fit*missing from the file: 'conv1.weight'*"
        { New-IsaacVisionModel resnet18 -OutputSize 3 -WeightsPath (Join-Path $TestDrive 'none.pt') } | Should -Throw -ErrorId 'WeightsFileNotFound,*'
    }
}

Describe 'Lock-IsaacModel and Unlock-IsaacModel' {
    It 'freeze the body but its BatchNorm layers, for a model or a trainer''s, and thaw it again' {
        $model = New-IsaacVisionModel resnet18 -OutputSize 3
        Lock-IsaacModel $model | Should -BeNullOrEmpty
        $params = @{}; foreach ($p in $model.named_parameters()) { $params[$p.Item1] = $p.Item2 }
        $params['conv1.weight'].requires_grad | Should -BeFalse
        $params['bn1.weight'].requires_grad | Should -BeTrue
        $params['fc.weight'].requires_grad | Should -BeTrue
        $t = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 16) -Model $model
        ($t | Unlock-IsaacModel -PassThru) | Should -Be $model
        $params['conv1.weight'].requires_grad | Should -BeTrue
    }

    It 'refuse to freeze a trainer''s model while another runspace fits it, and change nothing' {
        $model = $ds | New-IsaacVisionModel mobilenet_v3_small
        $t = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 16) -Model $model
        $gate = [System.Threading.ManualResetEventSlim]::new($false)
        $release = [System.Threading.ManualResetEventSlim]::new($false)
        $runspace = [runspacefactory]::CreateRunspace(); $runspace.Open()
        $runner = [powershell]::Create(); $runner.Runspace = $runspace
        $null = $runner.AddScript({
                param($t, $gate, $release, $module)
                Import-Module $module
                Add-IsaacCallback $t before_batch { if ($_.Iter -eq 0 -and $_.Training) { $gate.Set(); $null = $release.Wait(10000) } }.GetNewClosure() -Name holder | Out-Null
                Invoke-IsaacFit $t -Epochs 1 -ProgressAction SilentlyContinue | Measure-Object | ForEach-Object Count
            }).AddArgument($t).AddArgument($gate).AddArgument($release).AddArgument((Join-Path $env:ISAACAI_MODULE 'Isaacai.psd1'))
        $handle = $runner.BeginInvoke()
        try {
            $gate.Wait(20000) | Should -BeTrue
            { Lock-IsaacModel $t } | Should -Throw -ErrorId 'TrainerBusy,*'
        }
        finally { $release.Set() }
        $runner.EndInvoke($handle) | Should -Be 1
        $runner.Dispose(); $runspace.Dispose()
        @($model.parameters() | Where-Object { -not $_.requires_grad }).Count | Should -Be 0
    }

    It 'refuse a model without a body and a head' {
        { Lock-IsaacModel (New-IsaacSimpleNet 784 8 10) } | Should -Throw -ErrorId 'ModelHasNoBody,*' -ExpectedMessage '*Only a model split into a body and a head can be frozen*'
    }
}

Describe 'Get-IsaacModelSummary' {
    It 'writes a row per layer with its output shape for the dataset''s input, and the totals to the host' {
        $model = $ds | New-IsaacVisionModel resnet18
        Lock-IsaacModel $model
        $output = @(Get-IsaacModelSummary $model -Dataset $ds 6>&1)
        $rows = @($output | Where-Object { $_ -is [Isaacai.Models.LayerSummary] })
        $rows[0].Name | Should -Be 'conv1'
        $rows[0].OutputShape | Should -Be 64, 14, 14
        $rows[0].Training | Should -Be 'Frozen'
        ($rows | Where-Object Name -eq 'bn1').Training | Should -Be 'Trainable'
        $rows[-1].Name | Should -Be 'fc'
        $rows[-1].OutputShape | Should -Be 10
        $totals = ($output | Where-Object { $_ -is [System.Management.Automation.InformationRecord] }).MessageData.Message
        $totals | Should -BeLike 'Total params: 11,175,370  trainable: *  frozen: *(input `[1, 28, 28`] → output `[10`])'
    }

    It 'shows as a table with the layer, type, output shape, parameters and training' {
        $text = Get-IsaacModelSummary (New-IsaacConvNet 4, 8 -OutputSize 10) -InputShape 1, 28, 28 6>$null | Out-String -Width 200
        $text | Should -Match 'Layer\s+Type\s+Output shape\s+Params\s+Training'
        $text | Should -Match 'layers\.0\.0\s+Conv2d\s+\[4, 14, 14\]\s+36 Trainable'
    }

    It 'describes a model of your own compiled with Add-Type, and gives the whole summary with -AsSummary' {
        if (-not ('SummaryNet' -as [type])) {
            Add-Type -CompilerOptions '-nowarn:CS1701' -ReferencedAssemblies (Join-Path $env:ISAACAI_MODULE 'TorchSharp.dll') -TypeDefinition @'
using TorchSharp; using static TorchSharp.torch;
public class SummaryNet : nn.Module<Tensor, Tensor> {
    private readonly TorchSharp.Modules.Linear hidden = nn.Linear(6, 5), output = nn.Linear(5, 2);
    public SummaryNet() : base("SummaryNet") { RegisterComponents(); }
    public override Tensor forward(Tensor x) { using var h = hidden.call(x); using var a = nn.functional.relu(h); return output.call(a); }
}
'@
        }
        $summary = Get-IsaacModelSummary ([SummaryNet]::new()) -InputShape 6 -AsSummary
        $summary.Layers.Name | Should -Be 'hidden', 'output'
        $summary.Layers[0].OutputShape | Should -Be 5
        $summary.TotalParameters | Should -Be (6 * 5 + 5 + 5 * 2 + 2)
        $summary.OutputShape | Should -Be 2
        { Get-IsaacModelSummary ([SummaryNet]::new()) -InputShape 7 } | Should -Throw -ErrorId 'InputShapeDoesNotFit,*'
        { Get-IsaacModelSummary 'not a model' -InputShape 7 } | Should -Throw -ErrorId 'NotAModel,*'
    }

    It 'takes the input shape from a trainer or a saved model, and asks for one only of a bare model' {
        $trainer = New-TinyTrainer
        (Get-IsaacModelSummary $trainer -AsSummary).InputShape | Should -Be 1, 28, 28
        Export-IsaacModel $trainer (Join-Path $TestDrive 'summary.isaac')
        $predictor = Import-IsaacModel (Join-Path $TestDrive 'summary.isaac') -Model (New-IsaacSimpleNet 784 8 10)
        { Get-IsaacModelSummary $predictor } | Should -Throw -ErrorId 'InputShapeUnknown,*' -ExpectedMessage 'Give -InputShape*'
        (Get-IsaacModelSummary $predictor -InputShape 784 -AsSummary).TotalParameters | Should -Be (784 * 8 + 8 + 8 * 10 + 10)
    }
}

Describe 'Invoke-IsaacFit -FineTune' {
    It 'trains the head with the body frozen, then everything, streaming a record per epoch of both phases' {
        Set-IsaacSeed 4
        $model = $ds | New-IsaacVisionModel mobilenet_v3_small
        $t = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 16) -Model $model -LearningRate 0.01
        $records = @(Invoke-IsaacFit $t -FineTune -FreezeEpochs 1 -Epochs 2 -ProgressAction SilentlyContinue)
        $records.Count | Should -Be 3
        $records.epoch | Should -Be 0, 0, 1
        $records | ForEach-Object { $_.train_loss | Should -BeGreaterThan 0 }
        @($model.parameters() | Where-Object { -not $_.requires_grad }).Count | Should -Be 0
        $t.LrMultipliers | Should -BeNullOrEmpty
    }

    It 'refuses a model without a body and a head, and -OneCycle or -Resume alongside' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain)
        { Invoke-IsaacFit $t -FineTune } | Should -Throw -ErrorId 'ModelHasNoBody,*'
        { Invoke-IsaacFit $t -FineTune -OneCycle } | Should -Throw -ErrorId 'AmbiguousParameterSet,*'
    }
}

Describe 'A vision model saved and used in a new session' {
    It 'is rebuilt by Import-IsaacModel in a new pwsh (TorchVision loaded) and predicts the same; plots still draw there, with one SkiaSharp' {
        Set-IsaacSeed 5
        $model = $ds | New-IsaacVisionModel mobilenet_v3_small
        $t = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 16) -Model $model -LearningRate 0.01
        Invoke-IsaacFit $t -Epochs 1 -ProgressAction SilentlyContinue | Out-Null
        $path = Join-Path $TestDrive 'mobilenet.isaac'
        Export-IsaacModel $t $path | Out-Null
        $here = @(Invoke-IsaacPredict $t -InputObject $ds['test'].X.narrow(0, 0, 4)).Probability
        $png = Join-Path $TestDrive 'loss.png'
        $there = Invoke-InNewProcess @"
`$m = Import-IsaacModel '$path'
`$images = (Get-IsaacDataset -Sample 40 -Seed 1)['test'].X.narrow(0, 0, 4)
`$p = @(Invoke-IsaacPredict `$m -InputObject `$images)
`$dls = Get-IsaacDataset -Sample 32 -Seed 2 | New-IsaacDataLoaders -BatchSize 16
`$t = New-IsaacTrainer -DataLoaders `$dls -Model (New-IsaacSimpleNet 784 8 10)
Invoke-IsaacFit `$t -Epochs 1 -ProgressAction SilentlyContinue | Out-Null
`$file = Export-IsaacPlot `$t '$png' -Width 300 -Height 200
`$skia = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'SkiaSharp' })
`$vision = [AppDomain]::CurrentDomain.GetAssemblies().GetName().Name -contains 'TorchVision'
@{ Type = `$m.Model.GetType().Name; Probability = `$p.Probability; TorchVision = `$vision; Skia = `$skia.Count; SkiaVersion = `$skia[0].GetName().Version.ToString(); Png = `$file.Length } | ConvertTo-Json -Compress
"@
        $there.Type | Should -Be 'VisionModel'
        $there.Probability | Should -Be $here
        $there.TorchVision | Should -BeTrue
        $there.Skia | Should -Be 1
        $there.SkiaVersion | Should -BeLike '3.119.*'
        $there.Png | Should -BeGreaterThan 1000
    }
}
