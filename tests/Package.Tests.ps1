# The packages that build.ps1 Package writes to out/packages, installed and used as users would: the module
# through PSResourceGet from a local folder repository, the engine through NuGet from a local feed.
BeforeAll {
    $script:packages = Join-Path (Split-Path $env:ISAACAI_MODULE) 'packages'
    $script:manifest = Import-PowerShellDataFile (Join-Path $env:ISAACAI_MODULE 'Isaacai.psd1')
    $script:version = $manifest.ModuleVersion
    $script:modulePackage = Join-Path $packages "Isaacai.$version.nupkg"
    $script:enginePackage = Join-Path $packages "Isaacai.Engine.$version.nupkg"
    foreach ($package in $modulePackage, $enginePackage) {
        if (-not (Test-Path $package)) { throw "$package is missing: run ./build.ps1 Package (Test does) before these tests." }
    }

    # A package's entries (parts of the package format left out) and its nuspec.
    function Read-Package([string] $Path) {
        $zip = [System.IO.Compression.ZipFile]::OpenRead($Path)
        try {
            $nuspec = $zip.Entries | Where-Object FullName -Like '*.nuspec'
            $reader = [System.IO.StreamReader]::new($nuspec.Open())
            try { $xml = [xml]$reader.ReadToEnd() } finally { $reader.Dispose() }
            [pscustomobject]@{
                Files = @($zip.Entries | Where-Object { $_.FullName -notmatch '^(_rels/|package/|\[Content_Types\]\.xml$)|\.nuspec$' } | ForEach-Object FullName)
                Metadata = $xml.package.metadata
            }
        }
        finally { $zip.Dispose() }
    }

    # Runs a pwsh script in a new process whose user folders (HOME, XDG_*) are under $HomePath, so that
    # PSResourceGet's repository list and CurrentUser module path are there, not the user's. Returns
    # the script's output, which ends in one JSON line.
    function Invoke-AsNewUser([string] $HomePath, [string] $Script, [hashtable] $Environment = @{}) {
        $variables = @{
            HOME = $HomePath
            XDG_DATA_HOME = Join-Path $HomePath '.local/share'
            XDG_CONFIG_HOME = Join-Path $HomePath '.config'
            XDG_CACHE_HOME = Join-Path $HomePath '.cache'
        } + $Environment
        # .NET reports a user folder only once it exists.
        foreach ($folder in 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME') { New-Item -ItemType Directory -Force -Path $variables[$folder] | Out-Null }
        $saved = @{}
        foreach ($name in $variables.Keys) { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
        $file = Join-Path $HomePath "script-$([guid]::NewGuid()).ps1"
        Set-Content -Path $file -Value "`$ErrorActionPreference = 'Stop'`n$Script"
        try {
            foreach ($name in $variables.Keys) { [Environment]::SetEnvironmentVariable($name, $variables[$name]) }
            $output = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -File $file 2>&1
            if ($LASTEXITCODE -ne 0) { throw "The new pwsh process failed ($LASTEXITCODE): $($output -join "`n")" }
            @($output)[-1] | ConvertFrom-Json
        }
        finally {
            foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
            Remove-Item $file -ErrorAction Ignore
        }
    }

    $script:work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "isaacai-package-$([guid]::NewGuid())")).FullName
}

AfterAll {
    if ($work) { Remove-Item -Recurse -Force $work -ErrorAction Ignore }
}

Describe 'The module package' {
    It 'carries the gallery''s fields from the manifest, one version for manifest, assemblies and packages' {
        $metadata = (Read-Package $modulePackage).Metadata
        $metadata.id | Should -Be 'Isaacai'
        $metadata.version | Should -Be $version
        $metadata.description | Should -Be $manifest.Description
        $metadata.projectUrl | Should -Be $manifest.PrivateData.PSData.ProjectUri
        $metadata.licenseUrl | Should -Be $manifest.PrivateData.PSData.LicenseUri
        $metadata.releaseNotes | Should -Be $manifest.PrivateData.PSData.ReleaseNotes
        $metadata.tags -split ' ' | Should -Contain 'PSModule'
        $metadata.tags -split ' ' | Should -Contain 'PSEdition_Core'
        foreach ($assembly in 'Isaacai.dll', 'Isaacai.PowerShell.dll') {
            [Reflection.AssemblyName]::GetAssemblyName((Join-Path $env:ISAACAI_MODULE $assembly)).Version.ToString(3) | Should -Be $version -Because $assembly
        }
        (Read-Package $enginePackage).Metadata.version | Should -Be $version
    }

    It 'holds the module''s files only, natives flat beside TorchSharp.dll, without libtorch''s test and Python libraries' {
        $staged = Get-ChildItem $env:ISAACAI_MODULE -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($env:ISAACAI_MODULE, $_.FullName) -replace '\\', '/' }
        $files = (Read-Package $modulePackage).Files
        $files | Sort-Object | Should -Be ($staged | Sort-Object)
        $files | Should -Contain 'libtorch_cpu.so'
        $files | Should -Contain 'libLibTorchSharp.so'
        $files | Should -Contain 'LICENSE'
        foreach ($unloaded in 'libtorch_python.so', 'libshm.so', 'libtorch_global_deps.so', 'libtorchbind_test.so', 'libjitbackend_test.so') {
            $files | Should -Not -Contain $unloaded
        }
        (Get-Item $modulePackage).Length | Should -BeLessThan 250MB
    }

    It 'installs with Install-PSResource from a local folder repository; a new pwsh imports it by name and trains an epoch' {
        $userHome = New-Item -ItemType Directory -Path (Join-Path $work 'home')
        $repository = New-Item -ItemType Directory -Path (Join-Path $work 'repository')
        $install = Invoke-AsNewUser $userHome @"
Register-PSResourceRepository -Name IsaacaiLocal -Uri '$repository' -Trusted
Publish-PSResource -NupkgPath '$modulePackage' -Repository IsaacaiLocal
Install-PSResource Isaacai -Repository IsaacaiLocal -Scope CurrentUser
`$installed = Get-InstalledPSResource Isaacai
@{ Location = `$installed.InstalledLocation; Version = "`$(`$installed.Version)"; Published = @(Get-ChildItem '$repository').Name } | ConvertTo-Json -Compress
"@
        $install.Published | Should -Be "Isaacai.$version.nupkg"
        $install.Version | Should -Be $version
        $modules = $install.Location
        $modules | Should -BeLike "$userHome*"

        # A new session in which the installed folder is the only place to find modules, on a .NET without
        # its SDK: a dotnet root holding only the host and the shared runtimes, and nothing on PATH (so no
        # dotnet command either), as on a machine that has PowerShell and no SDK.
        $sdkRoot = [IO.Path]::GetFullPath((Join-Path ([Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory()) '../../..'))
        $runtimeOnly = New-Item -ItemType Directory -Path (Join-Path $work 'dotnet-runtime-only')
        foreach ($part in 'host', 'shared') {
            # Hard links copy in no time (symbolic ones would be resolved back to the SDK's folder); across file systems, a copy.
            & cp -al (Join-Path $sdkRoot $part) $runtimeOnly 2>$null
            if ($LASTEXITCODE -ne 0) { & cp -a (Join-Path $sdkRoot $part) $runtimeOnly }
        }
        $emptyPath = New-Item -ItemType Directory -Path (Join-Path $work 'empty-path')
        $fit = Invoke-AsNewUser $userHome -Environment @{ DOTNET_ROOT = $runtimeOnly.FullName; PATH = $emptyPath.FullName } @"
`$env:PSModulePath = '$modules'
Import-Module Isaacai
[TorchSharp.torch]::set_num_threads(1)
Set-IsaacSeed 1
`$dls = Get-IsaacDataset | New-IsaacDataLoaders -BatchSize 64
`$trainer = New-IsaacTrainer -DataLoaders `$dls -LossFunction CrossEntropy -Optimizer Adam -Model (New-IsaacSimpleNet 784 32 10) ``
    -Callback (New-IsaacCallback BasicTrain), (New-IsaacCallback Metrics -Metric Accuracy)
`$records = @(Invoke-IsaacFit `$trainer -Epochs 1)
@{
    ModuleBase = (Get-Module Isaacai).ModuleBase
    Available = @((Get-Module -ListAvailable Isaacai).ModuleBase)
    Epochs = `$records.Count
    Accuracy = `$records[0].Accuracy
    Natives = @(Get-Content /proc/self/maps | Where-Object { `$_ -match '(libtorch_cpu|libLibTorchSharp)\.so' } | ForEach-Object { (`$_ -split '\s+')[-1] } | Sort-Object -Unique)
    Runtime = @(Get-Content /proc/self/maps | Where-Object { `$_ -match 'libcoreclr\.so' } | ForEach-Object { (`$_ -split '\s+')[-1] } | Select-Object -First 1)
    Sdk = Test-Path (Join-Path `$env:DOTNET_ROOT 'sdk')
    DotnetCommand = [bool](Get-Command dotnet -ErrorAction Ignore)
} | ConvertTo-Json -Compress
"@
        $moduleBase = Join-Path $modules "Isaacai/$version"
        $fit.ModuleBase | Should -Be $moduleBase
        $fit.Available | Should -Be $moduleBase
        $fit.Natives | Should -Be (Join-Path $moduleBase 'libLibTorchSharp.so'), (Join-Path $moduleBase 'libtorch_cpu.so')
        $fit.Runtime | Should -BeLike "$($runtimeOnly.FullName)/shared/Microsoft.NETCore.App/*"
        $fit.Sdk | Should -BeFalse
        $fit.DotnetCommand | Should -BeFalse
        $fit.Epochs | Should -Be 1
        # Chance is 0.1; one epoch on the 6,000-image sample reaches about 0.8.
        $fit.Accuracy | Should -BeGreaterThan 0.6
    }
}

Describe 'The engine package' {
    It 'depends on TorchSharp, not on a backend, and carries XML docs, licence, repository and commit' {
        $package = Read-Package $enginePackage
        $dependencies = @($package.Metadata.dependencies.group.dependency)
        $dependencies.id | Should -Contain 'TorchSharp'
        $dependencies.id | Where-Object { $_ -like 'TorchSharp-*' -or $_ -like 'libtorch*' } | Should -BeNullOrEmpty
        $package.Files | Should -Contain 'lib/net10.0/Isaacai.dll'
        $package.Files | Should -Contain 'lib/net10.0/Isaacai.xml'
        $package.Files | Should -Contain 'buildTransitive/Isaacai.Engine.targets'
        $package.Files | Should -Contain 'contentFiles/any/any/datasets/fashion-mnist-sample/train-images-idx3-ubyte.gz'
        $package.Metadata.license.InnerText | Should -Be 'MIT'
        $package.Metadata.repository.url | Should -Be $manifest.PrivateData.PSData.ProjectUri
        $package.Metadata.repository.commit | Should -Match '^[0-9a-f]{40}$'
    }

    It 'restores from a local feed into a C# application that fits on the shipped sample, and runs the README''s C# snippets as written' {
        $app = New-Item -ItemType Directory -Path (Join-Path $work 'consumer')
        Copy-Item (Join-Path $PSScriptRoot 'PackageConsumer/*') $app
        # Isolated from the user's NuGet settings and caches: only this config is read (--configfile, and
        # NUGET_PACKAGES set), the engine comes from out/packages alone, and every other package from the machine's
        # NuGet folder (the build restored them there, so no network) seen through links that leave out any
        # Isaacai.Engine a user's own `dotnet add package` cached there: no stale engine of the same version can stand in.
        $machinePackages = ((& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', '').Trim()
        $fallback = New-Item -ItemType Directory -Path (Join-Path $work 'machine-packages')
        Get-ChildItem -Directory $machinePackages | Where-Object Name -NE 'isaacai.engine' |
            ForEach-Object { New-Item -ItemType SymbolicLink -Path (Join-Path $fallback $_.Name) -Target $_.FullName | Out-Null }
        $restored = Join-Path $work 'nuget-packages'
        $config = Join-Path $app 'NuGet.config'
        Set-Content $config @"
<configuration>
  <config><add key="globalPackagesFolder" value="$restored" /></config>
  <packageSources><clear /><add key="isaacai" value="$packages" /></packageSources>
  <fallbackPackageFolders><clear /><add key="machine" value="$fallback" /></fallbackPackageFolders>
</configuration>
"@
        $torchSharpVersion = (@((Read-Package $enginePackage).Metadata.dependencies.group.dependency) | Where-Object id -EQ 'TorchSharp').version
        $properties = "-p:IsaacaiVersion=$version", "-p:TorchSharpVersion=$torchSharpVersion"
        $savedPackagesVariable = $env:NUGET_PACKAGES
        try {
            $env:NUGET_PACKAGES = $restored  # a user's NUGET_PACKAGES would otherwise win over the config
            $output = & dotnet restore $app --configfile $config @properties 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
            $output = & dotnet run --project $app -c Release --no-restore @properties 2>&1
        }
        finally { $env:NUGET_PACKAGES = $savedPackagesVariable }
        $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
        $result = @($output)[-1] | ConvertFrom-Json
        Join-Path $restored "isaacai.engine/$version/isaacai.engine.$version.nupkg" | Should -Exist
        $result.Engine | Should -BeLike "$app*"
        $result.Epochs | Should -Be 1
        $result.Accuracy | Should -BeGreaterThan 0.6

        # The README's C# snippets, as written, in the same application: their usings first, each body in a block of its own.
        $snippets = [regex]::Matches((Get-Content -Raw (Join-Path $PSScriptRoot '../README.md')), '```csharp\n(.*?)```', 'Singleline') | ForEach-Object { $_.Groups[1].Value }
        $snippets.Count | Should -BeGreaterOrEqual 3
        $lines = $snippets | ForEach-Object { $_ -split "`n" }
        $usings = $lines | Where-Object { $_ -match '^using [\w. ]+;$' } | Sort-Object -Unique
        $bodies = $snippets | ForEach-Object { "{`n" + (($_ -split "`n" | Where-Object { $_ -notmatch '^using [\w. ]+;$' }) -join "`n") + "`n}" }
        Set-Content (Join-Path $app 'Program.cs') (($usings + $bodies) -join "`n")
        Push-Location $app
        try { $output = & dotnet run --project $app -c Release --no-restore @properties 2>&1 }
        finally { Pop-Location }
        $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
        ($output -join "`n") | Should -Match 'Adelie \(\d+(\.\d+)? ?%\)'
        ($output -join "`n") | Should -Match 'clothes/Bag/\d+\.png: '
        ($output -join "`n") | Should -Match 'ONNX Runtime: Adelie \(\d+(\.\d+)? ?%\)\s+ONNX Runtime: Gentoo \('
    }
}
