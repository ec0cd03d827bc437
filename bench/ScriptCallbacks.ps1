<#
.SYNOPSIS
    What a script callback costs per call, timed call by call inside a real fit.
.DESCRIPTION
    Fits SimpleNet 784-64-10 on the shipped Fashion-MNIST sample (6000 train samples, batch 64, train
    only, torch at one thread) with one callback at after_batch, wrapped in a timer that reads the clock
    around each call. The sides (a C# no-op as the baseline, an empty scriptblock, a scriptblock reading
    $_, a PowerShell class method, and the adapter's calls as they were before issue 7: a new PSVariable for
    $_ per call, MethodInfo.Invoke) take turns, in a rotating order, for -Repeats rounds; each side's
    figure is the median of all its calls, and the script's own cost is that minus the C# baseline's.
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Isaacai'),
    [int] $Repeats = 7
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'Isaacai.psd1')
[TorchSharp.torch]::set_num_threads(1)

Add-Type -ReferencedAssemblies ([Isaacai.Trainer].Assembly.Location), ([TorchSharp.torch].Assembly.Location), ([scriptblock].Assembly.Location), 'System.Collections', 'System.Runtime', 'System.Linq.Expressions', 'System.ComponentModel.Primitives' -TypeDefinition @'
using System.Collections.Generic;
using System.Diagnostics;

/// <summary>Times each call of the callback it wraps.</summary>
public sealed class TimedCallback : Isaacai.Callback
{
    private readonly Isaacai.Callback _inner;
    public TimedCallback(Isaacai.Callback inner) { _inner = inner; Name = inner.Name; }
    public List<double> Microseconds { get; } = new List<double>();
    public override bool Implements(Isaacai.Hook hook) { return _inner.Implements(hook); }
    public override void Invoke(Isaacai.Hook hook, Isaacai.Trainer trainer)
    {
        long start = Stopwatch.GetTimestamp();
        _inner.Invoke(hook, trainer);
        Microseconds.Add((Stopwatch.GetTimestamp() - start) * 1e6 / Stopwatch.Frequency);
    }
}

public sealed class NoOpCallback : Isaacai.Callback
{
    public override void AfterBatch(Isaacai.Trainer trainer) { }
}

/// <summary>The adapter's calls as they were before issue 7, for comparison in the same run.</summary>
public sealed class BeforeScriptBlockCallback : Isaacai.Callback
{
    private readonly System.Management.Automation.ScriptBlock _script;
    public BeforeScriptBlockCallback(System.Management.Automation.ScriptBlock script) { _script = script; }
    public override void AfterBatch(Isaacai.Trainer trainer) =>
        _script.InvokeWithContext(null, new List<System.Management.Automation.PSVariable> { new System.Management.Automation.PSVariable("_", trainer) }, trainer);
}

public sealed class BeforeClassCallback : Isaacai.Callback
{
    private readonly object _instance;
    private readonly System.Reflection.MethodInfo _method;
    public BeforeClassCallback(object instance) { _instance = instance; _method = instance.GetType().GetMethod("after_batch"); }
    public override void AfterBatch(Isaacai.Trainer trainer) => _method.Invoke(_instance, _method.GetParameters().Length == 0 ? new object[0] : new object[] { trainer });
}
'@
. ([scriptblock]::Create('class NoOpClassCallback { [void] after_batch($trainer) { } }'))

$sides = [ordered]@{
    'C# no-op (baseline)'        = { [NoOpCallback]::new() }
    'scriptblock {}'             = { [Isaacai.PowerShell.CallbackAdapter]::FromHashtable(@{ after_batch = {} }) }
    'scriptblock {}, before'     = { [BeforeScriptBlockCallback]::new({}) }
    'scriptblock reading $_'     = { [Isaacai.PowerShell.CallbackAdapter]::FromHashtable(@{ after_batch = { $null = $_.Iter } }) }
    'class method'               = { [Isaacai.PowerShell.CallbackAdapter]::FromObject([NoOpClassCallback]::new()) }
    'class method, before'       = { [BeforeClassCallback]::new([NoOpClassCallback]::new()) }
}
$data = Get-IsaacDataset
$trainer = New-IsaacTrainer Trainer -DataLoaders (New-IsaacDataLoaders $data -BatchSize 64) -LossFunction CrossEntropy -Optimizer Adam `
    -Model (New-IsaacSimpleNet 784 64 10) -Callback (New-IsaacCallback BasicTrain)
$calls = @{}
$names = @($sides.Keys)
foreach ($name in $names) { $calls[$name] = [System.Collections.Generic.List[double]]::new() }

function Invoke-Side([string] $Name) {
    $timed = [TimedCallback]::new((& $sides[$Name]))
    $trainer.AddCallbacks([Isaacai.Callback[]]@($timed))
    try { $trainer.Fit(1, $true, $false) } finally { $null = $trainer.RemoveCallback($timed) }
    $timed.Microseconds
}
foreach ($name in $names) { $null = Invoke-Side $name }   # warm-up: JIT, compiled scripts, allocator
foreach ($round in 0..($Repeats - 1)) {
    # Rotate the order each round, so a drift in the machine's speed falls on every side alike.
    foreach ($i in 0..($names.Count - 1)) {
        $name = $names[($i + $round) % $names.Count]
        $calls[$name].AddRange([double[]](Invoke-Side $name))
    }
}

function Get-Median([double[]] $Values) { $sorted = $Values | Sort-Object; $sorted[[int]($sorted.Count / 2)] }
$baseline = Get-Median $calls[$names[0]]
"Script callback cost per call, at after_batch in a real fit ($Repeats rounds, $($calls[$names[0]].Count) calls per side, 1 torch thread):"
foreach ($name in $names) {
    $median = Get-Median $calls[$name]
    '{0,-28} median {1,7:F1} µs per call; {2,7:F1} µs over the C# baseline' -f $name, $median, ($median - $baseline)
}
