BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    if (-not ('WarmupTrainer' -as [type])) {
        # A user's own subclass, from the user's own assembly: one parameter without a default, one with.
        Add-Type -CompilerOptions '-nowarn:CS1701' -ReferencedAssemblies (Join-Path $env:ISAACAI_MODULE 'Isaacai.dll'), (Join-Path $env:ISAACAI_MODULE 'TorchSharp.dll') -TypeDefinition @'
using System.Collections.Generic;
using Isaacai;
using static TorchSharp.torch;
public class WarmupTrainer : Trainer
{
    public WarmupTrainer(Isaacai.Data.DataLoaders dls, nn.Module<Tensor, Tensor, Tensor> lossFunc, OptimizerFactory optFunc,
                         nn.Module<Tensor, Tensor> model, IEnumerable<Callback> callbacks, double lr, int warmupBatches, string label = "warm")
        : base(dls, lossFunc, optFunc, model, callbacks, lr) { WarmupBatches = warmupBatches; Label = label; }
    public int WarmupBatches { get; }
    public string Label { get; }
}
'@
    }
    $script:dls = New-IsaacDataLoaders $IsaacTestData -BatchSize 16
}

Describe 'New-IsaacTrainer' {
    It 'builds a trainer from names and objects' {
        $model = New-IsaacSimpleNet 784 8 10
        $t = New-IsaacTrainer -DataLoaders $dls -LossFunction CrossEntropy -Optimizer Adam -Model $model -Callback (New-IsaacCallback BasicTrain) -LearningRate 0.01
        $t | Should -BeOfType ([Isaacai.Trainer])
        $t.Model | Should -Be $model
        $t.Lr | Should -Be 0.01
        $t.LossFunc.GetType().Name | Should -Be 'CrossEntropyLoss'
        $t.Callbacks.Name | Should -Be 'BasicTrainCB'
    }

    It 'accepts a loss module and an optimizer scriptblock' {
        $loss = [TorchSharp.torch+nn]::CrossEntropyLoss()
        $t = New-IsaacTrainer -DataLoaders $dls -LossFunction $loss -Model (New-IsaacSimpleNet 784 8 10) -Callback (New-IsaacCallback BasicTrain) `
            -Optimizer { param($parameters, $lr) [TorchSharp.torch+optim]::SGD($parameters, $lr) }
        $t.LossFunc | Should -Be $loss
        Invoke-IsaacFit $t | Out-Null
        $t.Opt.GetType().Name | Should -Be 'SGD'
    }

    It 'takes callbacks as objects, hashtables and class instances in -Callback' {
        $t = New-TinyTrainer -Callback (New-IsaacCallback BasicTrain), @{ after_fit = {} }
        $t.Callbacks.Name | Should -Be 'BasicTrainCB', 'script:after_fit'
    }

    It 'completes loss, optimizer and trainer type names with Tab' {
        foreach ($case in @(
                @{ Line = 'New-IsaacTrainer -LossFunction Cross'; Expected = 'CrossEntropy' },
                @{ Line = 'New-IsaacTrainer -Optimizer SG'; Expected = 'SGD' },
                @{ Line = 'New-IsaacTrainer -Type Mom'; Expected = 'Momentum' })) {
            (TabExpansion2 -inputScript $case.Line -cursorColumn $case.Line.Length).CompletionMatches.CompletionText | Should -Contain $case.Expected
        }
    }

    It 'rejects unknown names with the valid ones, and keeps nothing half-made' {
        { New-IsaacTrainer -DataLoaders $dls -LossFunction Nope -Optimizer Adam -Model (New-IsaacSimpleNet 784 8 10) } |
            Should -Throw -ErrorId 'InvalidTrainerArgument,*' -ExpectedMessage '*CrossEntropy*'
        { New-IsaacTrainer -DataLoaders $dls -LossFunction CrossEntropy -Optimizer Adamm -Model (New-IsaacSimpleNet 784 8 10) } |
            Should -Throw -ExpectedMessage '*Adam*SGD*'
        { New-IsaacTrainer -DataLoaders $dls -LossFunction CrossEntropy -Optimizer Adam -Model (New-IsaacSimpleNet 784 8 10) -LearningRate -1 } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }
}

Describe 'Trainer subclasses surface their constructor parameters (the seed''s init_delegates)' {
    It 'shows -Momentum, typed, with its default, in Get-Command' {
        $parameter = (Get-Command New-IsaacTrainer -ArgumentList Momentum).Parameters['Momentum']
        $parameter.ParameterType | Should -Be ([double])
        $parameter.Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).Mandatory | Should -BeFalse
        $parameter.Attributes.Where({ $_ -is [System.Management.Automation.PSDefaultValueAttribute] }).Value | Should -Be 0.85
        (Get-Command New-IsaacTrainer).Parameters.ContainsKey('Momentum') | Should -BeFalse
    }

    It 'documents -Momentum in Get-Help' {
        $help = Get-Help New-IsaacTrainer -Parameter Momentum
        $help.type.name | Should -Be 'Double'
        $help.defaultValue | Should -Be '0.85'
    }

    It 'builds a MomentumTrainer with its own callbacks and the given momentum' {
        $t = New-IsaacTrainer Momentum -DataLoaders $dls -LossFunction CrossEntropy -Optimizer SGD -Model (New-IsaacSimpleNet 784 8 10) -Momentum 0.6
        $t | Should -BeOfType ([Isaacai.MomentumTrainer])
        $t.Callbacks.Name | Should -Be 'MomentumTrainCB', 'DeviceCB', 'TrackingCB'
        $t.Callbacks[0].Momentum | Should -Be 0.6
        (New-IsaacTrainer Momentum -DataLoaders $dls -LossFunction CrossEntropy -Optimizer SGD -Model (New-IsaacSimpleNet 784 8 10)).Callbacks[0].Momentum | Should -Be 0.85
    }

    It 'makes a parameter without a default mandatory, for a subclass from the user''s own assembly' {
        $parameters = (Get-Command New-IsaacTrainer -ArgumentList WarmupTrainer).Parameters
        $parameters['WarmupBatches'].ParameterType | Should -Be ([int])
        $parameters['WarmupBatches'].Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).Mandatory | Should -BeTrue
        $parameters['Label'].Attributes.Where({ $_ -is [System.Management.Automation.PSDefaultValueAttribute] }).Value | Should -Be 'warm'
        $t = New-IsaacTrainer WarmupTrainer -DataLoaders $dls -LossFunction CrossEntropy -Optimizer SGD -Model (New-IsaacSimpleNet 784 8 10) -WarmupBatches 3
        ($t.WarmupBatches, $t.Label) | Should -Be 3, 'warm'
    }

    It 'rejects an unknown trainer type, listing the valid ones' {
        { New-IsaacTrainer Nope -DataLoaders $dls -LossFunction CrossEntropy -Optimizer SGD -Model (New-IsaacSimpleNet 784 8 10) } |
            Should -Throw -ExpectedMessage "*'Nope' is not a trainer type*Momentum*"
    }
}

Describe 'New-IsaacTrainer defaults' {
    It 'picks the loss, metrics and callbacks of the data''s task when none are given' {
        $classes = Import-Csv $PenguinsCsv | ConvertTo-IsaacDataset -Target species -MissingValue Drop -WarningAction SilentlyContinue
        $t = New-IsaacTrainer -DataLoaders ($classes | New-IsaacDataLoaders) -Model ($classes | New-IsaacMlp -HiddenSize 4)
        $t.LossFunc.GetType().Name | Should -Be 'CrossEntropyLoss'
        $t.Callbacks.Name | Should -Be 'BasicTrainCB', 'MetricsCB', 'DeviceCB', 'TrackingCB'
        @($t.Callbacks[1].Metrics.Keys) | Should -Be 'Accuracy', 'F1'
        $numbers = Import-Csv $PenguinsCsv | ConvertTo-IsaacDataset -Target body_mass_g -MissingValue Drop -WarningAction SilentlyContinue
        $r = New-IsaacTrainer -DataLoaders ($numbers | New-IsaacDataLoaders) -Model ($numbers | New-IsaacMlp -HiddenSize 4)
        $r.LossFunc.GetType().Name | Should -Be 'MSELoss'
        @($r.Callbacks[1].Metrics.Keys) | Should -Be 'Rmse', 'Mae'
    }

    It 'asks for a loss when the data does not say what its targets are' {
        $x = [TorchSharp.torch]::randn([long[]](8, 3))
        $y = [TorchSharp.torch]::randn([long[]](8, 1))
        $dd = [Isaacai.Data.DatasetDict]::FromTensors([ValueTuple[TorchSharp.torch+Tensor, TorchSharp.torch+Tensor]]::new($x, $y), [ValueTuple[TorchSharp.torch+Tensor, TorchSharp.torch+Tensor]]::new($x, $y), $null)
        { New-IsaacTrainer -DataLoaders ($dd | New-IsaacDataLoaders) -Model (New-IsaacMlp 4 -InputSize 3 -OutputSize 1) } | Should -Throw '*give -LossFunction*'
    }
}
