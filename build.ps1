#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, benchmarks and demonstrates Isaacai.
.DESCRIPTION
    Build   publishes the module and stages an explicit list of files into out/Isaacai.
    Docs    writes the MAML help and about topics from docs/ (Build does this too).
    Test    runs the xunit engine tests and the Pester module tests (in a fresh pwsh that imports
            out/Isaacai), then prints one line: 'tests: N passed, M failed'.
    Package builds, then writes out/packages: the module's .nupkg (for Install-PSResource) and the
            engine library's .nupkg (for C# projects), and prints their sizes.
    Bench   the callback trainer against a hand-written TorchSharp loop, per-phase batch costs with the flat and
            TorchSharp's Adam, memory over a long fit, fits at 1, 2 and all threads, training from image files
            against the same images in memory, TensorBoard's cost per epoch, resnet18 steps and the ConvNet job
            against PyTorch 1.13 (bench/PeerBench.ps1), Invoke-IsaacFit against a bare loop (bench/FitSpeed.ps1),
            ONNX export time, size and difference against ONNX Runtime per architecture (-BenchCase picks one:
            speed, steps, memory, threads, images, tensorboard, resnet18, convnet, fit, onnx), the module's native heap
            setting against glibc's defaults on a ConvNet fit (bench/NativeHeap.ps1; -BenchCase heap), then the per-call
            cost of script callbacks inside a fit (bench/ScriptCallbacks.ps1), and tables at scale: files and objects
            to datasets and predictions, against pandas (bench/TabularBench.ps1; -BenchCase tabular).
            -BenchCase sweeps (not in all) times 8 sweep trials at throttle 1 and 2 and counts the epochs pruning
            saves (bench/Sweeps.ps1).
    Demo    the seed's example end to end in PowerShell.
    Sample  rebuilds the shipped Fashion-MNIST sample from the full dataset.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Docs', 'Package', 'Test', 'Bench', 'Demo', 'Sample')]
    [string[]] $Task = 'Build',

    # Cpu uses TorchSharp-cpu; Cuda swaps in TorchSharp-cuda-linux for machines with CUDA.
    [ValidateSet('Cpu', 'Cuda')]
    [string] $Backend = 'Cpu',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Bench runs all of its cases, or one; 'threads' and 'images' run on the shipped sample and need no download.
    [ValidateSet('all', 'speed', 'steps', 'memory', 'threads', 'images', 'tensorboard', 'resnet18', 'convnet', 'fit', 'heap', 'onnx', 'tabular', 'sweeps')]
    [string] $BenchCase = 'all'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$out = Join-Path $root 'out/Isaacai'
$publish = Join-Path $root "out/publish/$Configuration"
$packages = Join-Path $root 'out/packages'
$helpCulture = 'en-US'

# A benchmark script in a pwsh of its own (torch's settings are per process); a failure stops the build.
function Invoke-BenchScript([string] $Script, [string[]] $Arguments = @('-ModulePath', $out)) {
    & dotnet pwsh -NoProfile -NonInteractive -File (Join-Path $root "bench/$Script") @Arguments
    if ($LASTEXITCODE -ne 0) { throw "bench/$Script $($Arguments -join ' ') failed with exit code $LASTEXITCODE." }
}

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE." }
}

function Copy-Changed([string] $Source, [string] $Destination) {
    # libtorch is 600 MB: copy a file only when it differs, so a rebuild takes seconds.
    $target = Get-Item -LiteralPath $Destination -ErrorAction Ignore
    $item = Get-Item -LiteralPath $Source
    if ($target -and $target.Length -eq $item.Length -and $target.LastWriteTimeUtc -eq $item.LastWriteTimeUtc) { return }
    New-Item -ItemType Directory -Force -Path (Split-Path $Destination) | Out-Null
    Copy-Item -LiteralPath $Source -Destination $Destination -Force
}

# libtorch's package also carries its Python binding and test libraries. Nothing the module loads needs
# them: libLibTorchSharp.so needs libtorch, libtorch_cpu, libc10 and libgomp (its DT_NEEDED closure), and
# neither TorchSharp.dll nor those libraries name any of these for a later dlopen(). libshm and
# libtorch_global_deps serve only Python's torch (torch.multiprocessing, torch/__init__.py); the rest are
# libtorch's own test fixtures. Leaving them out saves 36 MB.
$unloadedNatives = @(
    'libtorch_python.so', 'libshm.so', 'libtorch_global_deps.so', 'libnnapi_backend.so',
    'libtorchbind_test.so', 'libjitbackend_test.so', 'libbackend_with_compiler.so', 'libaoti_custom_ops.so'
)

function Get-RuntimeClosure {
    # The files the module needs at run time, as its deps.json lists them: our assemblies, their
    # package dependencies and the native libraries, all published flat next to TorchSharp.dll.
    $deps = Get-Content -Raw (Join-Path $publish 'Isaacai.PowerShell.deps.json') | ConvertFrom-Json -AsHashtable
    $target = $deps.targets[($deps.targets.Keys | Where-Object { $_ -like '*/linux-x64' } | Select-Object -First 1)]
    $files = foreach ($library in $target.Values) {
        foreach ($kind in 'runtime', 'native') {
            if ($library.ContainsKey($kind)) { $library[$kind].Keys | ForEach-Object { Split-Path $_ -Leaf } }
        }
    }
    $files | Where-Object { $_ -notin $unloadedNatives }
    'Isaacai.PowerShell.dll'
}

function Invoke-Docs {
    $helpDir = Join-Path $out $helpCulture
    New-Item -ItemType Directory -Force -Path $helpDir | Out-Null
    $pages = Get-ChildItem (Join-Path $root 'docs') -Filter '*.md' | Where-Object Name -NotLike 'about_*'
    ConvertTo-Maml -Page $pages -Path (Join-Path $helpDir 'Isaacai.PowerShell.dll-Help.xml')
    foreach ($about in Get-ChildItem (Join-Path $root 'docs') -Filter 'about_*.md') {
        Set-Content -Path (Join-Path $helpDir ($about.BaseName + '.help.txt')) -Value (ConvertTo-AboutText $about.FullName)
    }
}

# Plain text from an about topic's markdown, laid out as PlatyPS writes about topics: TOPIC and the other
# '##' headings in capitals at the margin, text indented by 4, code by 8, no markdown marks.
function ConvertTo-AboutText([string] $File) {
    # Trimmed at the start too: Get-Help takes an about topic's synopsis from its fifth line, the one under
    # SHORT DESCRIPTION only when TOPIC is the first line.
    $lines = ((Get-Content -Raw $File) -replace "`r", '' -replace '(?s)^---\n.*?\n---\n', '').Trim() -split "`n"
    $fenced = $false
    $text = foreach ($line in $lines) {
        if ($line -match '^```') { $fenced = -not $fenced; continue }
        if ($fenced) { if ($line) { '        ' + $line } else { '' }; continue }
        if ($line -match '^# (.+)') { 'TOPIC'; '    ' + $Matches[1].Trim(); continue }
        if ($line -match '^## (.+)') { $Matches[1].Trim().ToUpperInvariant(); continue }
        if ($line -match '^### (.+)') { $title = $Matches[1].Trim(); '    ' + $title; '    ' + ('-' * $title.Length); continue }
        if ($line -match '^    ') { '    ' + $line; continue }   # markdown code: kept as written, backticks included
        if (-not $line.Trim()) { ''; continue }
        '    ' + ($line -replace '`([^`]+)`', '$1')
    }
    ($text -join "`n") -replace "\n{3,}", "`n`n"
}

function Build-Module {
    Invoke-Dotnet publish (Join-Path $root 'src/Isaacai.PowerShell') -c $Configuration -r linux-x64 --self-contained false "-p:IsaacaiBackend=$Backend" -o $publish --nologo -v quiet
    New-Item -ItemType Directory -Force -Path $out | Out-Null
    $staged = [System.Collections.Generic.List[string]]::new()
    foreach ($file in @(Get-RuntimeClosure) | Sort-Object -Unique) {
        Copy-Changed (Join-Path $publish $file) (Join-Path $out $file)
        $staged.Add($file)
    }
    foreach ($dataset in 'datasets/fashion-mnist-sample', 'datasets/palmer-penguins') {
        foreach ($file in Get-ChildItem (Join-Path $publish $dataset) -File) {
            Copy-Changed $file.FullName (Join-Path $out "$dataset/$($file.Name)")
            $staged.Add("$dataset/$($file.Name)")
        }
    }
    $moduleFiles = @{
        'Isaacai.psd1' = 'Isaacai.psd1'
        'LICENSE' = 'LICENSE'
        'module/Isaacai.psm1' = 'Isaacai.psm1'
        'module/Isaacai.Format.ps1xml' = 'Isaacai.Format.ps1xml'
        'module/Isaacai.Types.ps1xml' = 'Isaacai.Types.ps1xml'
    }
    foreach ($entry in $moduleFiles.GetEnumerator()) {
        Copy-Item (Join-Path $root $entry.Key) (Join-Path $out $entry.Value) -Force
        $staged.Add($entry.Value)
    }
    Invoke-Docs
    # Anything else in out/Isaacai is left over from an older build: drop it, so out/ is exactly the list.
    $keep = [System.Collections.Generic.HashSet[string]]::new([string[]]$staged)
    Get-ChildItem $out -File -Recurse | Where-Object {
        $relative = [IO.Path]::GetRelativePath($out, $_.FullName)
        -not $keep.Contains($relative) -and -not $relative.StartsWith($helpCulture)
    } | Remove-Item -Force
    Write-Host "Staged $($staged.Count) files into $out"
}

function Invoke-Package {
    Build-Module
    Remove-Item -Recurse -Force $packages -ErrorAction Ignore
    New-Item -ItemType Directory -Force -Path $packages | Out-Null
    # Build-Module's publish has just built the engine in this configuration: pack that build.
    Invoke-Dotnet pack (Join-Path $root 'src/Isaacai') -c $Configuration --no-build -o $packages --nologo -v quiet
    # PSResourceGet packs the staged module as it is, with the nuspec it writes from the manifest. It
    # keeps its repository list under the user's data folder and writes it on first use: a child pwsh
    # with that folder under out/ leaves the user's settings alone.
    $dataHome = New-Item -ItemType Directory -Force -Path (Join-Path $root 'out/psresourceget')
    $userDataHome = $env:XDG_DATA_HOME
    try {
        $env:XDG_DATA_HOME = $dataHome.FullName
        & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -Command "Compress-PSResource -Path '$out' -DestinationPath '$packages'"
        if ($LASTEXITCODE -ne 0) { throw "Compress-PSResource failed with exit code $LASTEXITCODE." }
    }
    finally { $env:XDG_DATA_HOME = $userDataHome }

    $installed = (Get-ChildItem $out -File -Recurse | Measure-Object Length -Sum).Sum
    foreach ($package in Get-ChildItem $packages -Filter '*.nupkg') {
        Write-Host ('{0}: {1:N1} MiB' -f $package.Name, ($package.Length / 1MB))
        # NuGet galleries (nuget.org, the PowerShell Gallery) refuse packages over 250 MB.
        if ($package.Length -ge 250e6) { throw "$($package.Name) is $([math]::Round($package.Length / 1e6, 1)) MB; galleries take at most 250 MB (250,000,000 bytes)." }
    }
    Write-Host ('The module installs as {0:N1} MiB ({1}).' -f ($installed / 1MB), $out)
}

function Invoke-Test {
    Invoke-Package
    $results = Join-Path $root 'out/test-results'
    Remove-Item -Recurse -Force $results -ErrorAction Ignore
    New-Item -ItemType Directory -Force -Path $results | Out-Null

    & dotnet test (Join-Path $root 'tests/Isaacai.Tests') -c $Configuration "-p:IsaacaiBackend=$Backend" --nologo `
        --logger 'trx;LogFileName=xunit.trx' --results-directory $results
    $trx = Get-ChildItem $results -Recurse -Filter 'xunit.trx' | Select-Object -First 1
    $xunit = if ($trx) { ([xml](Get-Content -Raw $trx.FullName)).TestRun.ResultSummary.Counters } else { $null }
    $xunitPassed = if ($xunit) { [int]$xunit.passed } else { 0 }
    $xunitFailed = if ($xunit) { [int]$xunit.failed + [int]$xunit.error } else { 1 }  # no results: the run itself failed

    $pesterSummary = Join-Path $results 'pester.json'
    & dotnet pwsh -NoProfile -NonInteractive -File (Join-Path $root 'tests/Invoke-Pester.ps1') -ModulePath $out -SummaryPath $pesterSummary
    $pester = if (Test-Path $pesterSummary) { Get-Content -Raw $pesterSummary | ConvertFrom-Json } else { $null }
    $pesterPassed = if ($pester) { $pester.Passed } else { 0 }
    $pesterFailed = if ($pester) { $pester.Failed } else { 1 }

    $passed = $xunitPassed + $pesterPassed
    $failed = $xunitFailed + $pesterFailed
    Write-Host "xunit: $xunitPassed passed, $xunitFailed failed; Pester: $pesterPassed passed, $pesterFailed failed"
    Write-Host "tests: $passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

# Writes MAML help from PlatyPS-format markdown pages: what PlatyPS's New-ExternalHelp does, which we
# cannot install from the package sources here.
function ConvertTo-Maml([System.IO.FileInfo[]] $Page, [string] $Path) {
    $ns = @{
        maml = 'http://schemas.microsoft.com/maml/2004/10'
        command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
        dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
    }
    $settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
    $temporary = "$Path.part"
    $xml = [System.Xml.XmlWriter]::Create($temporary, $settings)
    try {
        $xml.WriteStartElement('helpItems', 'http://msh')
        $xml.WriteAttributeString('schema', 'maml')
        foreach ($file in $Page) { Write-MamlCommand $xml $ns (Read-HelpPage $file.FullName) }
        $xml.WriteEndElement()
    }
    finally { $xml.Dispose() }
    Move-Item -Force $temporary $Path
}

function Read-HelpPage([string] $File) {
    $text = (Get-Content -Raw $File) -replace "`r", ''
    $text = $text -replace '(?s)^---\n.*?\n---\n', ''
    $sections = [ordered]@{}
    foreach ($chunk in [regex]::Split($text, '(?m)^## ') | Select-Object -Skip 1) {
        $title, $body = $chunk -split "`n", 2
        $sections[$title.Trim()] = "$body".Trim()
    }
    $name = [regex]::Match($text, '(?m)^# (\S+)').Groups[1].Value
    if (-not $name) { throw "$File has no '# Command-Name' title." }
    foreach ($required in 'SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS') {
        if (-not $sections.Contains($required)) { throw "$File has no '## $required' section." }
    }
    $parameters = foreach ($p in [regex]::Split($sections.PARAMETERS, '(?m)^### ') | Where-Object { $_ -match '^-' }) {
        $head, $rest = $p -split "`n", 2
        $yaml = [regex]::Match($rest, '(?s)```yaml\n(.*?)```').Groups[1].Value
        $fields = @{}
        foreach ($line in $yaml -split "`n" | Where-Object { $_ -match ':' }) {
            $key, $value = $line -split ':', 2
            $fields[$key.Trim()] = $value.Trim()
        }
        [pscustomobject]@{
            Name = $head.Trim().TrimStart('-')
            Description = ([regex]::Replace($rest, '(?s)```yaml.*?```', '')).Trim()
            Type = $fields['Type']; Sets = "$($fields['Parameter Sets'])"; Required = $fields['Required'] -eq 'True'
            Position = if ($fields['Position'] -match '^\d+$') { $fields['Position'] } else { 'named' }
            Default = "$($fields['Default value'])"; Pipeline = "$($fields['Accept pipeline input'])"
            Globbing = $fields['Accept wildcard characters'] -eq 'True'
        }
    }
    $examples = foreach ($e in [regex]::Split($sections.EXAMPLES, '(?m)^### ') | Where-Object { $_.Trim() }) {
        $title, $rest = $e -split "`n", 2
        [pscustomobject]@{
            Title = $title.Trim()
            Code = [regex]::Match($rest, '(?s)```\w*\n(.*?)```').Groups[1].Value.TrimEnd()
            Remarks = ([regex]::Replace($rest, '(?s)```\w*\n.*?```', '')).Trim()
        }
    }
    $setNames = @([regex]::Matches($sections.SYNTAX, '(?m)^### (\S+)') | ForEach-Object { $_.Groups[1].Value })
    $typeSection = { param($body) foreach ($t in [regex]::Split("$body", '(?m)^### ') | Where-Object { $_.Trim() }) {
            $typeName, $description = $t -split "`n", 2
            [pscustomobject]@{ Name = $typeName.Trim(); Description = "$description".Trim() } } }
    [pscustomobject]@{
        Name = $name; Synopsis = $sections.SYNOPSIS; Description = $sections.DESCRIPTION
        Parameters = @($parameters); Examples = @($examples); Sets = if ($setNames) { $setNames } else { @('(All)') }
        Inputs = @(& $typeSection $sections['INPUTS']); Outputs = @(& $typeSection $sections['OUTPUTS'])
        Notes = "$($sections['NOTES'])"
        Links = @([regex]::Matches("$($sections['RELATED LINKS'])", '\[([^\]]+)\]\(([^)]*)\)') | ForEach-Object { [pscustomobject]@{ Text = $_.Groups[1].Value; Uri = $_.Groups[2].Value } })
    }
}

function Write-MamlParas($xml, $ns, [string] $Text) {
    $xml.WriteStartElement('maml', 'description', $ns.maml)
    foreach ($para in $Text -split "`n`n") { $xml.WriteElementString('maml', 'para', $ns.maml, ($para -replace "`n", ' ').Trim()) }
    $xml.WriteEndElement()
}

function Write-MamlParameter($xml, $ns, $Parameter) {
    $xml.WriteStartElement('command', 'parameter', $ns.command)
    $xml.WriteAttributeString('required', "$($Parameter.Required)".ToLowerInvariant())
    $xml.WriteAttributeString('position', $Parameter.Position)
    $xml.WriteAttributeString('pipelineInput', $Parameter.Pipeline)
    $xml.WriteAttributeString('globbing', "$($Parameter.Globbing)".ToLowerInvariant())
    $xml.WriteElementString('maml', 'name', $ns.maml, $Parameter.Name)
    Write-MamlParas $xml $ns $Parameter.Description
    if ($Parameter.Type -ne 'SwitchParameter') {
        $xml.WriteStartElement('command', 'parameterValue', $ns.command)
        $xml.WriteAttributeString('required', 'true')
        $xml.WriteString($Parameter.Type)
        $xml.WriteEndElement()
    }
    $xml.WriteStartElement('dev', 'type', $ns.dev)
    $xml.WriteElementString('maml', 'name', $ns.maml, $Parameter.Type)
    $xml.WriteEndElement()
    $xml.WriteElementString('dev', 'defaultValue', $ns.dev, $(if ($Parameter.Default) { $Parameter.Default } else { 'None' }))
    $xml.WriteEndElement()
}

function Write-MamlCommand($xml, $ns, $Help) {
    $verb, $noun = $Help.Name -split '-', 2
    $xml.WriteStartElement('command', 'command', $ns.command)
    $xml.WriteAttributeString('xmlns', 'maml', $null, $ns.maml)
    $xml.WriteAttributeString('xmlns', 'dev', $null, $ns.dev)
    $xml.WriteStartElement('command', 'details', $ns.command)
    $xml.WriteElementString('command', 'name', $ns.command, $Help.Name)
    $xml.WriteElementString('command', 'verb', $ns.command, $verb)
    $xml.WriteElementString('command', 'noun', $ns.command, $noun)
    Write-MamlParas $xml $ns $Help.Synopsis
    $xml.WriteEndElement()
    Write-MamlParas $xml $ns $Help.Description

    $xml.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in $Help.Sets) {
        $xml.WriteStartElement('command', 'syntaxItem', $ns.command)
        $xml.WriteElementString('maml', 'name', $ns.maml, $Help.Name)
        $inSet = $Help.Parameters | Where-Object { $_.Sets -match '\(All\)' -or ($_.Sets -split ',\s*') -contains $set }
        # As PowerShell shows syntax: positional parameters by position, then mandatory ones, then the rest.
        $ordered = $inSet | Sort-Object { if ($_.Position -eq 'named') { [int]::MaxValue } else { [int]$_.Position } }, { -not $_.Required }, Name
        foreach ($p in $ordered) { Write-MamlParameter $xml $ns $p }
        $xml.WriteEndElement()
    }
    $xml.WriteEndElement()

    $xml.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($p in $Help.Parameters) { Write-MamlParameter $xml $ns $p }
    $xml.WriteEndElement()

    foreach ($kind in @(@('inputTypes', 'inputType', $Help.Inputs), @('returnValues', 'returnValue', $Help.Outputs))) {
        $xml.WriteStartElement('command', $kind[0], $ns.command)
        foreach ($type in $kind[2]) {
            $xml.WriteStartElement('command', $kind[1], $ns.command)
            $xml.WriteStartElement('dev', 'type', $ns.dev)
            $xml.WriteElementString('maml', 'name', $ns.maml, $type.Name)
            $xml.WriteEndElement()
            Write-MamlParas $xml $ns $type.Description
            $xml.WriteEndElement()
        }
        $xml.WriteEndElement()
    }

    $xml.WriteStartElement('maml', 'alertSet', $ns.maml)
    $xml.WriteStartElement('maml', 'alert', $ns.maml)
    $xml.WriteElementString('maml', 'para', $ns.maml, $Help.Notes)
    $xml.WriteEndElement()
    $xml.WriteEndElement()

    $xml.WriteStartElement('command', 'examples', $ns.command)
    foreach ($example in $Help.Examples) {
        $xml.WriteStartElement('command', 'example', $ns.command)
        $xml.WriteElementString('maml', 'title', $ns.maml, "-------------------------- $($example.Title) --------------------------")
        $xml.WriteElementString('dev', 'code', $ns.dev, $example.Code)
        $xml.WriteStartElement('dev', 'remarks', $ns.dev)
        foreach ($para in $example.Remarks -split "`n`n") { $xml.WriteElementString('maml', 'para', $ns.maml, ($para -replace "`n", ' ').Trim()) }
        $xml.WriteEndElement()
        $xml.WriteEndElement()
    }
    $xml.WriteEndElement()

    $xml.WriteStartElement('command', 'relatedLinks', $ns.command)
    foreach ($link in $Help.Links) {
        $xml.WriteStartElement('maml', 'navigationLink', $ns.maml)
        $xml.WriteElementString('maml', 'linkText', $ns.maml, $link.Text)
        $xml.WriteElementString('maml', 'uri', $ns.maml, $(if ($link.Uri -match '^https?:') { $link.Uri } else { '' }))
        $xml.WriteEndElement()
    }
    $xml.WriteEndElement()
    $xml.WriteEndElement()
}

foreach ($name in $Task) {
    switch ($name) {
        'Build' { Build-Module }
        'Docs' { Invoke-Docs }
        'Package' { Invoke-Package }
        'Test' { Invoke-Test }
        'Bench' {
            if ($BenchCase -eq 'sweeps') {
                Build-Module
                Invoke-BenchScript Sweeps.ps1
                continue
            }
            if ($BenchCase -in 'all', 'fit') {
                Build-Module
                Invoke-Dotnet build -c Release (Join-Path $root 'bench/Isaacai.Bench') "-p:IsaacaiBackend=$Backend"
                Invoke-BenchScript FitSpeed.ps1
            }
            if ($BenchCase -in 'all', 'heap') {
                Build-Module
                Invoke-BenchScript NativeHeap.ps1
            }
            if ($BenchCase -notin 'resnet18', 'convnet', 'fit', 'heap', 'tabular') {
                Invoke-Dotnet run -c Release --project (Join-Path $root 'bench/Isaacai.Bench') "-p:IsaacaiBackend=$Backend" -- $BenchCase
            }
            foreach ($peerCase in 'resnet18', 'convnet') {
                if ($BenchCase -notin 'all', $peerCase) { continue }
                if ($peerCase -eq 'convnet') { Build-Module }
                Invoke-Dotnet build -c Release (Join-Path $root 'bench/Isaacai.Bench') "-p:IsaacaiBackend=$Backend"
                Invoke-BenchScript PeerBench.ps1 @('-Case', $peerCase, '-ModulePath', $out)
            }
            if ($BenchCase -eq 'all') {
                Build-Module
                Invoke-BenchScript ScriptCallbacks.ps1
            }
            if ($BenchCase -in 'all', 'tabular') {
                Build-Module
                Invoke-BenchScript TabularBench.ps1
            }
        }
        'Demo' {
            Build-Module
            & dotnet pwsh -NoProfile -NonInteractive -Command "Import-Module '$out/Isaacai.psd1'; & '$root/docs/examples/seed-example.ps1' -CsvPath '$root/out/demo-metrics.csv'"
            if ($LASTEXITCODE -ne 0) { throw "The demo failed with exit code $LASTEXITCODE." }
        }
        'Sample' {
            Invoke-Dotnet run -c Release --project (Join-Path $root 'bench/Isaacai.Bench') -- make-sample --out (Join-Path $root 'src/Isaacai/datasets/fashion-mnist-sample')
        }
    }
}
