BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    [TorchSharp.torch]::set_num_threads(1)
    $script:complete = Import-Csv $PenguinsCsv | Where-Object { $_.sex -ne 'NA' -and $_.bill_length_mm -ne 'NA' }
    $script:folder = Join-Path ([IO.Path]::GetTempPath()) "isaacai-categories-$([guid]::NewGuid())"
    New-Item -ItemType Directory $folder | Out-Null

    # 60 shops: an ID per row, a shop among 30 (what decides y), a number, and a date.
    $script:shops = foreach ($i in 0..179) {
        [pscustomobject]@{
            order = "o$i"
            shop  = 's{0:D2}' -f ($i % 30)
            price = ($i * 37 % 100) / 10
            day   = ([datetime]'2020-01-01').AddDays($i * 5).ToString('yyyy-MM-dd')
            y     = if (($i % 30) % 3 -eq 0) { 'yes' } else { 'no' }
        }
    }
}

AfterAll { Remove-Item -Recurse -Force $folder -ErrorAction Ignore }

Describe 'Category embeddings' {
    It 'embeds category columns, builds the embedding model from the dataset, and trains, saves and predicts with it' {
        $ds = $complete | ConvertTo-IsaacDataset species -CategoryEncoding Embedding
        $ds.Processor.Width | Should -Be 7 # five numbers, and one index each for island and sex
        $ds.Processor.EmbeddedInputs.Name | Should -Be 'island', 'sex'
        Set-IsaacSeed 5
        $model = $ds | New-IsaacMlp 16 -EmbeddingSize @{ ISLAND = 4 }
        $model | Should -BeOfType Isaacai.Models.EmbeddingMlp
        $model.Options.Embeddings.Size | Should -Be 4, 2 # as asked, and fastai's rule for 2 categories
        @($model.state_dict().Keys) | Should -Contain 'embeds.0.weight'
        @($model.state_dict().Keys) | Should -Contain 'mlp.layers.0.weight'
        $model.state_dict()['mlp.layers.0.weight'].shape | Should -Be 16, 11

        $trainer = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 32) -Model $model -LearningRate 0.02
        $last = Invoke-IsaacFit $trainer -Epochs 6 | Select-Object -Last 1
        $last.Accuracy | Should -BeGreaterThan 0.9

        $path = Join-Path $folder 'penguins-embedded.isaac'
        Export-IsaacModel $trainer -Path $path
        $fromTrainer = $complete | Select-Object -First 20 | Invoke-IsaacPredict $trainer
        $loaded = Import-IsaacModel $path
        $loaded.Model | Should -BeOfType Isaacai.Models.EmbeddingMlp
        $fromFile = $complete | Select-Object -First 20 | Invoke-IsaacPredict $loaded
        $fromFile.Prediction | Should -Be $fromTrainer.Prediction
        $fromFile.Probability | Should -Be $fromTrainer.Probability
    }

    It 'keeps one-hot by default, and Auto embeds only columns of more than 10 categories' {
        ($complete | ConvertTo-IsaacDataset species).Processor.Width | Should -Be 10
        $auto = $shops | ConvertTo-IsaacDataset y -CategoryEncoding Auto -WarningAction SilentlyContinue
        $auto.Processor.EmbeddedInputs.Name | Should -Be 'shop'
        ($complete | ConvertTo-IsaacDataset species -CategoryEncoding Auto).Processor.EmbeddedInputs | Should -BeNullOrEmpty
        ($auto | New-IsaacMlp 8) | Should -BeOfType Isaacai.Models.EmbeddingMlp
        ($complete | ConvertTo-IsaacDataset species | New-IsaacMlp 8) | Should -BeOfType Isaacai.Models.Mlp
    }

    It 'shows embedded columns as such in the features table' {
        $ds = $complete | ConvertTo-IsaacDataset species -CategoryEncoding Auto -UnknownCategory Slot
        $ds.Processor.Features[0].Kind | Should -Be 'Category'
        $embedded = $shops | ConvertTo-IsaacDataset y -Category shop -CategoryEncoding Embedding -WarningAction SilentlyContinue
        $lines = ($embedded.Processor.Features | Out-String -Width 200) -split "`n"
        $lines | Where-Object { $_ -match '^shop ' } | Should -Match '^shop\s+Category \(embedded\)\s+s00, s01'
        $lines | Where-Object { $_ -match '^day ' } | Should -Match '^day\s+Date\s+parts: Year, Month, Day, DayOfWeek, DayOfYear, Elapsed'
        (($ds.Processor.Features | Out-String -Width 200) -split "`n") | Where-Object { $_ -match '^island ' } | Should -Match '#na#, Biscoe, Dream, Torgersen'
    }

    It 'refuses embedding sizes for a column that is not embedded, or that are not whole numbers, as one error' {
        $ds = $complete | ConvertTo-IsaacDataset species -CategoryEncoding Embedding
        { $ds | New-IsaacMlp 8 -EmbeddingSize @{ bill_length_mm = 3 } } | Should -Throw "Embedding sizes are given for 'bill_length_mm', which is not an embedded column; the embedded columns are: island, sex."
        { $ds | New-IsaacMlp 8 -EmbeddingSize @{ island = 2.5 } } | Should -Throw "-EmbeddingSize gives 'island' the width 2.5; a width is a whole number from 1 to 100000."
        { $complete | ConvertTo-IsaacDataset species | New-IsaacMlp 8 -EmbeddingSize @{ island = 3 } } | Should -Throw '*give a dataset converted with -CategoryEncoding Embedding or Auto*'
        $err = $null
        try { $ds | New-IsaacMlp 8 -EmbeddingSize @{ island = 0 } } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidModelSize,*'
    }
}

Describe 'Unknown categories' {
    It 'predicts a row with an unknown category through the #na# slot, and errs without it' {
        Set-IsaacSeed 2
        foreach ($encoding in 'OneHot', 'Embedding') {
            $ds = $complete | ConvertTo-IsaacDataset species -CategoryEncoding $encoding -UnknownCategory Slot
            $trainer = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 32) -Model ($ds | New-IsaacMlp 8) -LearningRate 0.02
            Invoke-IsaacFit $trainer -Epochs 1 | Out-Null
            $path = Join-Path $folder "slot-$encoding.isaac"
            Export-IsaacModel $trainer -Path $path
            $row = $complete[0].PSObject.Copy()
            $row.island = 'Atlantis'
            $out = $row | Invoke-IsaacPredict (Import-IsaacModel $path) -ErrorVariable failed
            $failed | Should -BeNullOrEmpty
            $out.Prediction | Should -BeIn 'Adelie', 'Chinstrap', 'Gentoo'
        }
        $strict = $complete | ConvertTo-IsaacDataset species -CategoryEncoding Embedding
        $trainer = New-IsaacTrainer -DataLoaders ($strict | New-IsaacDataLoaders -BatchSize 32) -Model ($strict | New-IsaacMlp 8) -LearningRate 0.02
        $row | Invoke-IsaacPredict $trainer -ErrorVariable failed -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        "$failed" | Should -BeLike "Row 1, column 'island': the category 'Atlantis' was not seen in training.*"
    }
}

Describe 'ID-like columns' {
    It 'warns once naming each ID-like column and leaves it out, as a user sees it in a new runspace' {
        $run = Invoke-InNewRunspace {
            $ErrorActionPreference = 'Continue'
            $rows = foreach ($i in 0..99) { [pscustomobject]@{ Title = "Movie $i"; Genre = @('Drama', 'Comedy')[$i % 2]; Rating = $i % 10 } }
            $ds = $rows | ConvertTo-IsaacDataset Rating -WarningVariable warned -WarningAction SilentlyContinue
            ($ds.Processor.FeatureNames -join ',')
            $warned.Count
            "$warned"
            ($rows | ConvertTo-IsaacDataset Rating -Feature Title, Genre -WarningAction SilentlyContinue -WarningVariable none).Processor.FeatureNames -join ','
            $none.Count
        }
        $run.Output[0] | Should -Be 'Genre'
        $run.Output[1] | Should -Be 1
        $run.Output[2] | Should -Be "Left out 'Title' (100 distinct values in 100 rows): more distinct values than 50% of the rows, as IDs and free text have; a model cannot learn from a value seen once, and each new one would be unknown at prediction. To keep such a column, name it in -Feature or -Category (Features or Categories in C#)."
        $run.Output[3] | Should -Be 'Title,Genre'
        $run.Output[4] | Should -Be 0
    }

    It 'keeps an ID-like column named in -Category' {
        $ds = $shops | ConvertTo-IsaacDataset y -Category order -CategoryEncoding Embedding -WarningVariable warned -WarningAction SilentlyContinue
        $ds.Processor.FeatureNames | Should -Contain 'order'
        $warned | Should -BeNullOrEmpty
    }
}

Describe 'Date columns' {
    It 'expands ISO dates into six parts, and predicts from [datetime] values as from their text' {
        $ds = $shops | ConvertTo-IsaacDataset y -WarningAction SilentlyContinue
        $day = $ds.Processor.Features | Where-Object Name -EQ day
        $day.Kind | Should -Be 'Date'
        $day.DateParts.Part | Should -Be 'Year', 'Month', 'Day', 'DayOfWeek', 'DayOfYear', 'Elapsed'
        $day.Width | Should -Be 6
        Set-IsaacSeed 4
        $trainer = New-IsaacTrainer -DataLoaders ($ds | New-IsaacDataLoaders -BatchSize 32) -Model ($ds | New-IsaacMlp 8) -LearningRate 0.02
        Invoke-IsaacFit $trainer -Epochs 1 | Out-Null
        $path = Join-Path $folder 'dates.isaac'
        Export-IsaacModel $trainer -Path $path
        $model = Import-IsaacModel $path
        $asText = $shops | Select-Object -First 5 | Invoke-IsaacPredict $model
        $asDates = $shops | Select-Object -First 5 | ForEach-Object { $c = $_.PSObject.Copy(); $c.day = [datetime]$c.day; $c } | Invoke-IsaacPredict $model
        $asDates.Probability | Should -Be $asText.Probability
        # JSON dates, which ConvertFrom-Json turns into [datetime], read the same.
        $fromJson = $shops | Select-Object -First 5 | ForEach-Object { $c = $_.PSObject.Copy(); $c.day = "$($c.day)T00:00:00"; $c } | ConvertTo-Json | ConvertFrom-Json | Invoke-IsaacPredict $model
        $fromJson.Probability | Should -Be $asText.Probability
    }

    It 'stops at a value that is not a date among dates, naming the row, and reads the column as categories with -Category' {
        $bad = $shops | ForEach-Object { $_.PSObject.Copy() }
        $bad[9].day = '2020-02-30'
        { $bad | ConvertTo-IsaacDataset y -WarningAction SilentlyContinue } | Should -Throw "Row 10, column 'day': '2020-02-30' is not a date*name the column in -Category*"
        ($bad | ConvertTo-IsaacDataset y -Category day -CategoryEncoding Embedding -WarningAction SilentlyContinue).Processor.Features |
            Where-Object Name -EQ day | ForEach-Object Kind | Should -Be 'Category'
    }
}
