<#
.SYNOPSIS
    Tables at scale: rows/s and peak memory for file → dataset, objects → dataset, objects → predictions and
    file → predictions, and file → dataset against pandas read_csv + torch.tensor on the same file.
.DESCRIPTION
    Writes a CSV of -Rows rows × 12 columns (ten numbers, a colour of three categories and a label of three
    classes) once, into the temp folder. Each measurement runs in a pwsh process of its own, torch at one thread,
    so that its peak memory (the process's peak working set above what it held after importing the module) is its
    own. file → dataset is ConvertTo-IsaacDataset -Path; pandas' side (bench/peers/tabular_read_csv.py) reads the
    same file, one-hot encodes the colour and makes one float32 tensor. The two sides alternate, pair after pair
    (which goes first alternates too), and the figure is the median of the pairs' ratios pandas/Isaacai (above 1:
    Isaacai is faster). The object figures time 100,000 rows that Import-Csv made beforehand (its own time not
    counted) through ConvertTo-IsaacDataset and Invoke-IsaacPredict (an MLP with 64 hidden units); file →
    predictions is Invoke-IsaacPredict -Path -OutFile on the whole file, the median of -Pairs runs. pandas' side is
    skipped, with the reason, where /usr/bin/python3 has no pandas or torch.
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Isaacai'),
    [int] $Rows = 1000000,
    [int] $ObjectRows = 100000,
    [int] $Pairs = 3,
    [int] $ObjectRuns = 3,
    # Another build of the module (the one before a change, say), to time the object cases against in the same run.
    [string] $BaselineModulePath
)
$ErrorActionPreference = 'Stop'
$folder = Join-Path ([IO.Path]::GetTempPath()) 'isaacai-bench-tabular'
$null = New-Item -ItemType Directory -Force $folder
$big = Join-Path $folder "rows-$Rows.csv"
$small = Join-Path $folder "rows-$ObjectRows.csv"

Add-Type -TypeDefinition @'
using System; using System.Globalization; using System.IO; using System.Text;
public static class TabularBenchFile
{
    // Ten standard normal numbers with four decimals, a colour, and a label that the numbers and colour decide.
    public static void Write(string path, int rows)
    {
        var random = new Random(1);
        string[] colours = { "red", "green", "blue" };
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        writer.WriteLine("x0,x1,x2,x3,x4,x5,x6,x7,x8,x9,colour,label");
        var line = new StringBuilder();
        for (int r = 0; r < rows; r++)
        {
            line.Clear();
            double sum = 0;
            for (int i = 0; i < 10; i++)
            {
                double x = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                sum += x * (i % 3 - 1);
                line.Append(x.ToString("F4", CultureInfo.InvariantCulture)).Append(',');
            }
            int colour = random.Next(3);
            int label = ((sum > 0.5 ? 2 : sum < -0.5 ? 0 : 1) + colour) % 3;
            line.Append(colours[colour]).Append(',').Append(label);
            writer.WriteLine(line);
        }
    }
}
'@
foreach ($file in @(@{ Path = $big; Rows = $Rows }, @{ Path = $small; Rows = $ObjectRows })) {
    if (-not (Test-Path $file.Path)) { [TabularBenchFile]::Write($file.Path, $file.Rows) }
}

# Runs one measurement in a new pwsh process: $Setup untimed, then $Timed; prints its seconds, the CPU seconds of
# all the process's threads (GC and JIT included; on a busy machine closer to the work's own cost than the clock),
# and peak MB above the baseline.
function Invoke-Isaacai([string] $Setup, [string] $Timed, [string] $Module = $ModulePath) {
    $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$Module/Isaacai.psd1'
`$null = Set-IsaacThreads 1
$Setup
`$process = [Diagnostics.Process]::GetCurrentProcess()
[GC]::Collect(); `$process.Refresh(); `$baseline = `$process.WorkingSet64; `$cpu = `$process.TotalProcessorTime
`$clock = [Diagnostics.Stopwatch]::StartNew()
$Timed
`$seconds = `$clock.Elapsed.TotalSeconds
`$process.Refresh()
[pscustomobject]@{ seconds = `$seconds; cpu_seconds = (`$process.TotalProcessorTime - `$cpu).TotalSeconds; peak_mb = (`$process.PeakWorkingSet64 - [math]::Max(`$baseline, 0)) / 1MB } | ConvertTo-Json -Compress
"@
    $file = Join-Path $folder 'measure.ps1'
    Set-Content $file $script
    $line = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -File $file
    if ($LASTEXITCODE -ne 0) { throw "The Isaacai side failed with exit code $LASTEXITCODE." }
    @($line)[-1] | ConvertFrom-Json
}

. (Join-Path $PSScriptRoot 'BenchStatistics.ps1')

$floatMb = $Rows * 13 * 4 / 1MB # the dataset's inputs: ten numbers and three one-hot colours, float32
$python = '/usr/bin/python3'
& env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $python -c 'import pandas, torch' 2>$null
$havePandas = $LASTEXITCODE -eq 0
$isaac = [System.Collections.Generic.List[object]]::new(); $pandas = [System.Collections.Generic.List[object]]::new()
$fileToDataset = { Invoke-Isaacai '' "`$null = ConvertTo-IsaacDataset -Path '$big' -Target label" }
$pandasSide = {
    $line = & env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $python (Join-Path $PSScriptRoot 'peers/tabular_read_csv.py') --path $big
    if ($LASTEXITCODE -ne 0) { throw "The pandas side failed with exit code $LASTEXITCODE." }
    @($line)[-1] | ConvertFrom-Json
}
foreach ($pair in 1..$Pairs) {
    if (-not $havePandas) { $isaac.Add((& $fileToDataset)); continue }
    if ($pair % 2) { $isaac.Add((& $fileToDataset)); $pandas.Add((& $pandasSide)) }
    else { $pandas.Add((& $pandasSide)); $isaac.Add((& $fileToDataset)) }
}
$isaacSeconds = Median $isaac.seconds
$isaacPeak = Median $isaac.peak_mb
Write-Host ("file → dataset, {0:N0} × 12 CSV: Isaacai {1:N0} rows/s ({2:F2} s, {3:F2} CPU s), peak +{4:F0} MB ({5:F1}× the {6:F0} MB of float inputs); median of {7}" -f `
    $Rows, ($Rows / $isaacSeconds), $isaacSeconds, (Median $isaac.cpu_seconds), $isaacPeak, ($isaacPeak / $floatMb), $floatMb, $Pairs)
if ($havePandas) {
    $ratios = for ($i = 0; $i -lt $Pairs; $i++) { $pandas[$i].seconds / $isaac[$i].seconds }
    $cpuRatios = for ($i = 0; $i -lt $Pairs; $i++) { $pandas[$i].cpu_seconds / $isaac[$i].cpu_seconds }
    Write-Host ("  pandas {0} read_csv + get_dummies + torch.tensor: {1:F2} s ({2:F2} CPU s), peak +{3:F0} MB; pandas/Isaacai time {4:F2} (CPU {5:F2}), medians of {6} alternating pairs" -f `
        $pandas[0].version, (Median $pandas.seconds), (Median $pandas.cpu_seconds), (Median $pandas.peak_mb), (Median $ratios), (Median $cpuRatios), $Pairs)
    Write-Host ("  pairs (Isaacai s, pandas s): " + (@(for ($i = 0; $i -lt $Pairs; $i++) { '({0:F2}, {1:F2})' -f $isaac[$i].seconds, $pandas[$i].seconds }) -join ' '))
}
else { Write-Host "  pandas: skipped ($python has no pandas and torch: apt-get install python3-pandas python3-torch)." }

# Objects: rows made beforehand (their own making not counted) by Import-Csv, by ConvertFrom-Json (typed numbers)
# and as hashtables, piped or given to -InputObject; and, for scale, PowerShell's own cost of piping the same rows
# into a compiled cmdlet that does nothing with them. Each case runs -ObjectRuns times, the cases taking turns (and,
# with -BaselineModulePath, each run on both modules, the order alternating); the figures are medians.
$json = Join-Path $folder "rows-$ObjectRows.json"
if (-not (Test-Path $json)) {
    Import-Csv $small | ForEach-Object { foreach ($p in $_.PSObject.Properties) { if ($p.Name -ne 'colour') { $p.Value = $p.Name -eq 'label' ? [int] $p.Value : [double] $p.Value } }; $_ } |
        ConvertTo-Json -Compress | Set-Content $json
}
$sources = [ordered]@{
    'Import-Csv' = "`$rows = Import-Csv '$small'"
    'ConvertFrom-Json' = "`$rows = Get-Content -Raw '$json' | ConvertFrom-Json"
    'hashtable' = "`$rows = foreach (`$row in (Import-Csv '$small')) { `$table = @{}; foreach (`$p in `$row.PSObject.Properties) { `$table[`$p.Name] = `$p.Value }; `$table }"
}
$model = "`$ds = ConvertTo-IsaacDataset -Path '$small' -Target label; `$model = New-IsaacTrainer -DataLoaders (`$ds | New-IsaacDataLoaders -BatchSize 256) -Model (`$ds | New-IsaacMlp -HiddenSize 64)"
$nothing = @'
Add-Type -TypeDefinition 'using System.Management.Automation; [Cmdlet("Receive", "Row")] public sealed class ReceiveRow : PSCmdlet { [Parameter(ValueFromPipeline = true)] public PSObject InputObject { get; set; } }' -PassThru |
    Select-Object -First 1 | ForEach-Object { Import-Module $_.Assembly }
'@
$objectCases = [System.Collections.Generic.List[object]]::new()
$objectCases.Add(@{ Name = 'PowerShell alone: Import-Csv rows piped into a compiled cmdlet that does nothing'; Setup = "$($sources['Import-Csv']); $nothing"; Timed = '$null = $rows | Receive-Row'; Alone = $true })
foreach ($source in $sources.Keys) {
    $objectCases.Add(@{ Name = "objects → dataset, $source rows piped"; Setup = $sources[$source]; Timed = '$null = $rows | ConvertTo-IsaacDataset -Target label' })
}
$objectCases.Add(@{ Name = 'objects → dataset, Import-Csv rows to -InputObject'; Setup = $sources['Import-Csv']; Timed = '$null = ConvertTo-IsaacDataset -InputObject $rows -Target label' })
foreach ($source in $sources.Keys) {
    $objectCases.Add(@{ Name = "objects → predictions (MLP 13-64-3), $source rows piped"; Setup = "$model; $($sources[$source])"; Timed = '$null = $rows | Invoke-IsaacPredict $model' })
}
$objectCases.Add(@{ Name = 'objects → predictions (MLP 13-64-3), Import-Csv rows to -InputObject'; Setup = "$model; $($sources['Import-Csv'])"; Timed = '$null = Invoke-IsaacPredict $model -InputObject $rows' })
foreach ($case in $objectCases) { $case.Runs = [System.Collections.Generic.List[object]]::new(); $case.Baseline = [System.Collections.Generic.List[object]]::new() }
foreach ($run in 1..$ObjectRuns) {
    foreach ($case in $objectCases) {
        if (-not $BaselineModulePath -or $case.Alone) { $case.Runs.Add((Invoke-Isaacai $case.Setup $case.Timed)); continue }
        $sides = @({ $case.Runs.Add((Invoke-Isaacai $case.Setup $case.Timed)) }, { $case.Baseline.Add((Invoke-Isaacai $case.Setup $case.Timed $BaselineModulePath)) })
        if ($run % 2) { & $sides[0]; & $sides[1] } else { & $sides[1]; & $sides[0] }
    }
}
Write-Host ("objects, {0:N0} rows made beforehand, each run in a fresh pwsh; medians of {1}{2}:" -f $ObjectRows, $ObjectRuns, ($BaselineModulePath ? ", against $BaselineModulePath in alternating pairs" : ''))
foreach ($case in $objectCases) {
    $seconds = Median $case.Runs.seconds
    $line = "  {0}: {1:N0} rows/s ({2:F2} s; {3:N0} rows per CPU s), peak +{4:F0} MB" -f $case.Name, ($ObjectRows / $seconds), $seconds, ($ObjectRows / (Median $case.Runs.cpu_seconds)), (Median $case.Runs.peak_mb)
    if ($case.Baseline.Count) {
        $ratios = for ($i = 0; $i -lt $case.Runs.Count; $i++) { $case.Baseline[$i].seconds / $case.Runs[$i].seconds }
        $cpuRatios = for ($i = 0; $i -lt $case.Runs.Count; $i++) { $case.Baseline[$i].cpu_seconds / $case.Runs[$i].cpu_seconds }
        $baselineSeconds = Median $case.Baseline.seconds
        $line += "; baseline {0:N0} rows/s ({1:N0} per CPU s), baseline/this time {2:F2} (CPU {3:F2})" -f ($ObjectRows / $baselineSeconds), ($ObjectRows / (Median $case.Baseline.cpu_seconds)), (Median $ratios), (Median $cpuRatios)
    }
    Write-Host $line
}

$out = Join-Path $folder 'predicted.csv'
$filePredicted = @(foreach ($run in 1..$Pairs) { Invoke-Isaacai $model "`$null = Invoke-IsaacPredict `$model -Path '$big' -OutFile '$out'" })
$predictSeconds = Median $filePredicted.seconds
Write-Host ("file → predictions, {0:N0} rows CSV to CSV, MLP 13-64-3: {1:N0} rows/s ({2:F2} s; {3:N0} rows per CPU s), peak +{4:F0} MB; median of {5}" -f `
    $Rows, ($Rows / $predictSeconds), $predictSeconds, ($Rows / (Median $filePredicted.cpu_seconds)), (Median $filePredicted.peak_mb), $Pairs)
Remove-Item $out -ErrorAction Ignore
