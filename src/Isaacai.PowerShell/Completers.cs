using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Isaacai.Metrics;

namespace Isaacai.PowerShell;

/// <summary>Tab completion from a fixed list of names, matching the typed prefix and ignoring case.</summary>
public abstract class NameCompleter : IArgumentCompleter
{
    protected abstract IEnumerable<string> Names();

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = (wordToComplete ?? "").Trim('\'', '"');
        return Names().Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).Distinct().Order()
            .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n));
    }
}

public sealed class HookNameCompleter : NameCompleter
{
    protected override IEnumerable<string> Names() => HookNames.Seed.Concat(HookNames.All.Select(h => h.ToString()));
}

/// <summary>Keys of an epoch record that a callback can monitor: the losses and the metrics' names.</summary>
public sealed class RecordKeyCompleter : NameCompleter
{
    protected override IEnumerable<string> Names() => ["valid_loss", "train_loss", .. MetricNames.All];
}

public sealed class LossNameCompleter : NameCompleter
{
    protected override IEnumerable<string> Names() => Losses.Names;
}

public sealed class OptimizerNameCompleter : NameCompleter
{
    protected override IEnumerable<string> Names() => Optimizers.Names;
}

public sealed class MetricNameCompleter : NameCompleter
{
    protected override IEnumerable<string> Names() => MetricNames.All;
}

public sealed class TrainerTypeCompleter : NameCompleter
{
    protected override IEnumerable<string> Names() => TrainerTypes.All().Select(TrainerTypes.ShortName);
}

/// <summary>Devices torch can use here: the CPU, and CUDA with each of its devices when there are any.</summary>
public sealed class DeviceNameCompleter : NameCompleter
{
    protected override IEnumerable<string> Names() => TorchSharp.torch.cuda.is_available()
        ? ["cpu", "cuda", .. Enumerable.Range(0, TorchSharp.torch.cuda.device_count()).Select(i => $"cuda:{i}")]
        : ["cpu"];
}

public sealed class CallbackTypeCompleter : NameCompleter
{
    protected override IEnumerable<string> Names() => CallbackTypes.ShortNames;
}

/// <summary>The names of the callbacks of the trainer given as -Trainer (or first positional argument).</summary>
public sealed class TrainerCallbackNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var trainer = fakeBoundParameters["Trainer"] is { } value ? (value is PSObject ps ? ps.BaseObject : value) as Trainer : null;
        var prefix = (wordToComplete ?? "").Trim('\'', '"');
        return (trainer?.Callbacks.Select(c => c.Name) ?? []).Distinct().Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).Order()
            .Select(n => new CompletionResult(n.Contains(' ') ? $"'{n}'" : n, n, CompletionResultType.ParameterValue, n));
    }
}

public sealed class VisionArchitectureCompleter : NameCompleter
{
    protected override IEnumerable<string> Names() => Isaacai.Models.Vision.VisionArchitecture.Names;
}
