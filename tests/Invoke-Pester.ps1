<#
.SYNOPSIS
    Runs the module's Pester tests in this (fresh) pwsh against the built module, and writes the counts
    to a JSON file for build.ps1's summary line.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $SummaryPath
)
$ErrorActionPreference = 'Stop'
$packages = ((& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', '').Trim()
Import-Module (Join-Path $packages 'pester/6.2.0/tools/Pester.psd1') -Force
$env:ISAACAI_MODULE = (Resolve-Path $ModulePath).Path

$configuration = New-PesterConfiguration
$configuration.Run.Path = $PSScriptRoot
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
$result = Invoke-Pester -Configuration $configuration

# A block or file that fails outside an It (BeforeAll, say) fails its tests without counting them.
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
@{ Passed = $result.PassedCount; Failed = $failed } | ConvertTo-Json | Set-Content -Path $SummaryPath
exit ([int]($failed -gt 0))
