BeforeDiscovery {
    Import-Module (Join-Path $env:ISAACAI_MODULE 'Isaacai.psd1')
    $script:commands = Get-Command -Module Isaacai | ForEach-Object { @{ Name = $_.Name } }
}

BeforeAll {
    Import-Module (Join-Path $env:ISAACAI_MODULE 'Isaacai.psd1')
    $script:common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
}

Describe 'Help for <Name>' -ForEach $commands {
    BeforeAll {
        $script:help = Get-Help $Name -Full
        $script:command = Get-Command $Name
    }

    It 'has a synopsis of its own' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis.StartsWith("$Name ") | Should -BeFalse -Because 'PowerShell shows the syntax as synopsis when there is no help'
    }

    It 'has a description' {
        ($help.description.Text -join '') | Should -Not -BeNullOrEmpty
    }

    It 'has at least one example with code and remarks' {
        @($help.examples.example).Count | Should -BeGreaterThan 0
        foreach ($example in $help.examples.example) {
            $example.code | Should -Not -BeNullOrEmpty
            ($example.remarks.Text -join '') | Should -Not -BeNullOrEmpty
        }
    }

    It 'describes every parameter, with the type the command really takes' {
        $documented = @{}
        foreach ($p in @($help.parameters.parameter)) { if ($p) { $documented[$p.name] = $p } }
        foreach ($parameter in $command.Parameters.Values | Where-Object Name -NotIn $common) {
            $documented.ContainsKey($parameter.Name) | Should -BeTrue -Because "-$($parameter.Name) of $Name needs help"
            ($documented[$parameter.Name].description.Text -join '') | Should -Not -BeNullOrEmpty -Because "-$($parameter.Name) of $Name"
            $documented[$parameter.Name].type.name | Should -Be ($parameter.ParameterType.Name) -Because "-$($parameter.Name) of $Name"
        }
        foreach ($documentedName in $documented.Keys) {
            # -Momentum exists only with -Type Momentum: a dynamic parameter, documented for that case.
            $command.Parameters.ContainsKey($documentedName) -or ($Name -eq 'New-IsaacTrainer' -and $documentedName -eq 'Momentum') |
                Should -BeTrue -Because "-$documentedName is documented for $Name but does not exist"
        }
    }
}

Describe 'Examples' {
    BeforeAll { . (Join-Path $PSScriptRoot 'TestHelpers.ps1') }

    It 'Add-IsaacCallback Example 2, run as written, trains on ten batches per epoch and writes a record per epoch' {
        $code = @((Get-Help Add-IsaacCallback).examples.example)[1].code
        $trainer = New-TinyTrainer -BatchSize 2 -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics)
        $batches = @{ Train = 0 }
        Add-IsaacCallback $trainer after_batch { if ($_.Training) { $batches.Train++ } } | Out-Null
        $records = @(& ([scriptblock]::Create($code)) 6>$null | Where-Object { $_.PSObject.TypeNames -contains 'Isaacai.EpochRecord' })
        $records.Count | Should -Be 2
        $records | ForEach-Object { $_.train_loss | Should -Not -BeNullOrEmpty; $_.valid_loss | Should -Not -BeNullOrEmpty }
        $batches.Train | Should -Be 20
    }
}

Describe 'about_Isaacai_Callbacks' {
    It 'is found by Get-Help' {
        $text = Get-Help about_Isaacai_Callbacks | Out-String
        $text | Should -Match 'before_batch'
        $text | Should -Match 'CancelBatchException'
    }

    It 'has its short description as its synopsis in Get-Help''s list' {
        $listed = Get-Help *Isaac* | Where-Object Name -EQ about_Isaacai_Callbacks
        $listed.Synopsis | Should -Be 'How Isaacai''s training loop is made of callbacks, and how to write them in PowerShell.'
    }

    It 'is plain text laid out as PlatyPS writes about topics, with no markdown marks' {
        $lines = (Get-Help about_Isaacai_Callbacks | Out-String) -split "`n" | ForEach-Object TrimEnd
        $lines | Where-Object { $_ -match '^\s*#' -or $_ -match '```' } | Should -BeNullOrEmpty
        $lines | Where-Object { $_ -match '`[\w$-][^`]*`' } | Should -BeNullOrEmpty -Because 'inline code marks are removed from text'
        $topic = [array]::IndexOf($lines, 'TOPIC')
        $topic | Should -BeGreaterOrEqual 0
        $lines[$topic + 1] | Should -Be '    about_Isaacai_Callbacks'
        $lines | Should -Contain 'SHORT DESCRIPTION'
        $lines | Should -Contain 'LONG DESCRIPTION'
        $lines | Should -Contain '    Tensors in a hook'
        # Code keeps its PowerShell line continuations, indented under the text.
        $lines | Should -Contain '        $trainer = New-IsaacTrainer -DataLoaders $dls -LossFunction CrossEntropy -Optimizer Adam `'
    }
}
