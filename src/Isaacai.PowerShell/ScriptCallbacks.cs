using System.Collections;
using System.Management.Automation;
using System.Reflection;

namespace Isaacai.PowerShell;

/// <summary>
/// A callback whose hooks are PowerShell code. Must run on the pipeline thread (the fit does). Cancel
/// exceptions come back out as themselves, whatever PowerShell wrapped them in; any other failure
/// becomes a <see cref="ScriptCallbackException"/>.
/// </summary>
public abstract class ScriptCallback : Callback
{
    public override void Invoke(Hook hook, Trainer trainer)
    {
        try
        {
            if (IsStopping(trainer)) InvokeInNestedPipeline(hook, trainer);
            else InvokeScript(hook, trainer);
        }
        catch (Exception e) when (e is not ScriptCallbackException)
        {
            if (Find<CancelException>(e) is { } cancel) throw cancel;
            // The pipeline began stopping while the script ran: wind the fit down as a stop does.
            if (Find<PipelineStoppedException>(e) is not null) throw new CancelFitException();
            throw new ScriptCallbackException(HookNames.ToSeedName(hook), Name, e, ScriptErrorOf(e));
        }
    }

    private static bool IsStopping(Trainer trainer) =>
        trainer.Cancellation.IsCancellationRequested || trainer.Reporter is PipelineReporter { Stopping: true };

    protected abstract void InvokeScript(Hook hook, Trainer trainer);

    /// <summary>Runs the hook's script; public only so that a nested pipeline can call back into it.</summary>
    public void InvokeHookScript(Hook hook, Trainer trainer) => InvokeScript(hook, trainer);

    /// <summary>
    /// After Ctrl+C PowerShell refuses to run script in the stopping pipeline, yet the batch under way and
    /// the cleanup hooks must still run. A nested pipeline on the same runspace is not stopping.
    /// </summary>
    private void InvokeInNestedPipeline(Hook hook, Trainer trainer)
    {
        using var nested = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
        nested.AddScript("param($callback, $hook, $trainer) $callback.InvokeHookScript($hook, $trainer)")
            .AddArgument(this).AddArgument(hook).AddArgument(trainer)
            .Invoke();
    }

    /// <summary>
    /// The exception and everything it wraps, outermost first: inner exceptions and the exceptions of
    /// error records, which is where PowerShell puts what a script threw.
    /// </summary>
    private static IEnumerable<Exception> Causes(Exception root)
    {
        var seen = new HashSet<Exception>(ReferenceEqualityComparer.Instance);
        var pending = new Queue<Exception>([root]);
        while (pending.TryDequeue(out var e))
        {
            if (!seen.Add(e)) continue;
            yield return e;
            if (e.InnerException is { } inner) pending.Enqueue(inner);
            if ((e as IContainsErrorRecord)?.ErrorRecord?.Exception is { } recorded) pending.Enqueue(recorded);
        }
    }

    private static T? Find<T>(Exception e) where T : Exception => Causes(e).OfType<T>().FirstOrDefault();

    /// <summary>The innermost error record that knows where in a script it happened.</summary>
    private static ErrorRecord? ScriptErrorOf(Exception e) => Causes(e)
        .Select(c => (c as IContainsErrorRecord)?.ErrorRecord)
        .LastOrDefault(record => record?.InvocationInfo?.ScriptLineNumber > 0);
}

/// <summary>Scriptblocks mapped to hooks. Each receives the trainer as <c>$args[0]</c>, <c>param($trainer)</c> and <c>$_</c>.</summary>
public sealed class ScriptBlockCallback : ScriptCallback
{
    private readonly Dictionary<Hook, ScriptBlock> _scripts;

    public ScriptBlockCallback(IReadOnlyDictionary<Hook, ScriptBlock> scripts)
    {
        _scripts = scripts.ToDictionary();
        Name = "script:" + string.Join(",", _scripts.Keys.Order().Select(HookNames.ToSeedName));
    }

    public IReadOnlyDictionary<Hook, ScriptBlock> Scripts => _scripts;

    public override bool Implements(Hook hook) => _scripts.ContainsKey(hook);

    protected override void InvokeScript(Hook hook, Trainer trainer) =>
        _scripts[hook].InvokeWithContext(null, [new PSVariable("_", trainer)], trainer);
}

/// <summary>An instance of a PowerShell class whose methods are named after hooks, the twin of the seed's Python classes.</summary>
public sealed class PSClassCallback : ScriptCallback
{
    private readonly Dictionary<Hook, MethodInfo> _methods;

    public PSClassCallback(object instance, IReadOnlyDictionary<Hook, MethodInfo> methods)
    {
        Instance = instance;
        _methods = methods.ToDictionary();
        Name = instance.GetType().Name;
    }

    public object Instance { get; }

    public override bool Implements(Hook hook) => _methods.ContainsKey(hook);

    protected override void InvokeScript(Hook hook, Trainer trainer)
    {
        var method = _methods[hook];
        try { method.Invoke(Instance, method.GetParameters().Length == 0 ? [] : [trainer]); }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw(); // keeps the script's stack
        }
    }
}

/// <summary>Turns what a user passes as a callback into a <see cref="Callback"/>.</summary>
public static class CallbackAdapter
{
    /// <summary>
    /// Accepts an Isaacai callback, a hashtable of hook names to scriptblocks, or an object (such as a
    /// PowerShell class instance) with methods named after hooks and an optional <c>Order</c> property.
    /// </summary>
    public static Callback FromObject(object? value)
    {
        var target = value is PSObject ps ? ps.BaseObject : value;
        switch (target)
        {
            case Callback callback: return callback;
            case IDictionary hooks: return FromHashtable(hooks);
            case null: throw new ArgumentNullException(nameof(value), "A callback cannot be null.");
        }
        var methods = new Dictionary<Hook, MethodInfo>();
        foreach (var method in target.GetType().GetMethods(BindingFlags.Public | BindingFlags.Instance))
            if (method.DeclaringType != typeof(object) && method.GetParameters().Length <= 1 && HookNames.TryParse(method.Name, out var hook))
                methods[hook] = method;
        if (methods.Count == 0)
            throw new ArgumentException($"An object of type '{target.GetType().FullName}' is not a callback: it is neither an Isaacai.Callback, nor a hashtable of hook names to scriptblocks, nor an object with methods named after hooks ({string.Join(", ", HookNames.Seed)}).");
        var adapted = new PSClassCallback(target, methods);
        if (target.GetType().GetProperty("Order")?.GetValue(target) is { } order) adapted.Order = Convert.ToInt32(order, System.Globalization.CultureInfo.InvariantCulture);
        return adapted;
    }

    public static ScriptBlockCallback FromHashtable(IDictionary hooks)
    {
        var scripts = new Dictionary<Hook, ScriptBlock>();
        foreach (DictionaryEntry entry in hooks)
        {
            var name = entry.Key?.ToString();
            if (!HookNames.TryParse(name, out var hook)) throw new ArgumentException(HookNames.DescribeUnknown(name));
            scripts[hook] = (entry.Value is PSObject ps ? ps.BaseObject : entry.Value) as ScriptBlock
                ?? throw new ArgumentException($"The value for hook '{name}' must be a scriptblock; it is {entry.Value?.GetType().Name ?? "null"}.");
        }
        if (scripts.Count == 0) throw new ArgumentException($"The hashtable maps no hooks; map hook names ({string.Join(", ", HookNames.Seed)}) to scriptblocks.");
        return new ScriptBlockCallback(scripts);
    }
}
