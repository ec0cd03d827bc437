using System.Collections;
using System.Management.Automation;
using System.Linq.Expressions;
using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Isaacai.PowerShell;

/// <summary>
/// A callback whose hooks are PowerShell code. Must run on the pipeline thread (the fit does). Cancel
/// exceptions come back out as themselves, whatever PowerShell wrapped them in; any other failure
/// becomes a <see cref="ScriptCallbackException"/>.
/// </summary>
public abstract class ScriptCallback : Callback
{
    [ThreadStatic] private static int t_hooksRunning;

    /// <summary>Whether a script hook is running on this thread: Stop-IsaacBatch and its twins work only there.</summary>
    public static bool InHook => t_hooksRunning > 0;

    /// <summary>
    /// What a failure of this callback does: Stop (the default) fails the fit, as an exception in a Python
    /// callback does; Continue writes it as an error of the fit (through the trainer's logger) and goes
    /// on; SilentlyContinue and Ignore go on without a word.
    /// </summary>
    public ActionPreference ErrorAction { get; set; } = ActionPreference.Stop;

    /// <summary>The runspace the callback was made in: its scripts belong to that runspace's session state.</summary>
    private readonly System.Management.Automation.Runspaces.Runspace? _home = System.Management.Automation.Runspaces.Runspace.DefaultRunspace;

    public override void Invoke(Hook hook, Trainer trainer)
    {
        // Run from another runspace's thread, a script would use its own runspace's variables at the same time
        // as that runspace does (a fit there overwrote the test's variables here): refuse, saying how to do it.
        if (_home is not null && System.Management.Automation.Runspaces.Runspace.DefaultRunspace is { } current && current != _home)
            throw new ScriptCallbackException(HookNames.ToSeedName(hook), Name, new InvalidOperationException(
                "This script callback was made in another runspace, and a script runs only in the runspace that made it. Add the callback (Add-IsaacCallback) in the runspace that runs the fit."), null);
        t_hooksRunning++;
        try
        {
            if (IsStopping(trainer)) InvokeInNestedPipeline(hook, trainer);
            else InvokeScript(hook, trainer);
        }
        catch (Exception e) when (e is not ScriptCallbackException)
        {
            var translated = Translate(e, HookNames.ToSeedName(hook), Name);
            if (translated is not ScriptCallbackException failure
                || ErrorAction is not (ActionPreference.Continue or ActionPreference.SilentlyContinue or ActionPreference.Ignore)) throw translated;
            if (ErrorAction == ActionPreference.Continue) trainer.Logger.LogError(failure, "{Message}", failure.Message);
        }
        finally { t_hooksRunning--; }
    }

    /// <summary>
    /// What a script's exception becomes: a cancel stays that cancel, whatever PowerShell wrapped it in; a
    /// stop of the pipeline while the script ran becomes a CancelFit (the fit winds down as a stop does);
    /// anything else a <see cref="ScriptCallbackException"/> naming the hook and callback.
    /// </summary>
    internal static Exception Translate(Exception e, string hook, string callbackName) =>
        Find<CancelException>(e) as Exception
        ?? (Find<PipelineStoppedException>(e) is not null ? new CancelFitException() : new ScriptCallbackException(hook, callbackName, e, ScriptErrorOf(e)));

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

/// <summary>
/// Scriptblocks mapped to hooks. Each receives the trainer as <c>$args[0]</c>, <c>param($trainer)</c> and
/// <c>$_</c>, and runs with <c>$ErrorActionPreference = 'Stop'</c>: its first error (a failed .NET call,
/// a failing command, Write-Error) ends that call as a failure of the callback.
/// </summary>
public sealed class ScriptBlockCallback : ScriptCallback
{
    private readonly Dictionary<Hook, ScriptBlock> _scripts;
    // Made once and refilled each call: InvokeWithContext takes $_ out of the list and puts the rest in the
    // hook's new scope, where the script may change their values.
    private readonly PSVariable _dollarUnder = new("_", null);
    private readonly PSVariable _errorActionPreference = new("ErrorActionPreference", ActionPreference.Stop);
    private readonly List<PSVariable> _variables = new(2);

    public ScriptBlockCallback(IReadOnlyDictionary<Hook, ScriptBlock> scripts)
    {
        _scripts = scripts.ToDictionary();
        Name = "script:" + string.Join(",", _scripts.Keys.Order().Select(HookNames.ToSeedName));
    }

    public IReadOnlyDictionary<Hook, ScriptBlock> Scripts => _scripts;

    public override bool Implements(Hook hook) => _scripts.ContainsKey(hook);

    protected override void InvokeScript(Hook hook, Trainer trainer)
    {
        _dollarUnder.Value = trainer;
        _errorActionPreference.Value = ActionPreference.Stop;
        _variables.Clear();
        _variables.Add(_errorActionPreference);
        _variables.Add(_dollarUnder);
        _scripts[hook].InvokeWithContext(null, _variables, trainer);
    }
}

/// <summary>An instance of a PowerShell class whose methods are named after hooks, the twin of the seed's Python classes.</summary>
public sealed class PSClassCallback : ScriptCallback
{
    private readonly Dictionary<Hook, Action<Trainer>> _calls;

    public PSClassCallback(object instance, IReadOnlyDictionary<Hook, MethodInfo> methods)
    {
        Instance = instance;
        _calls = methods.ToDictionary(m => m.Key, m => Compile(instance, m.Value));
        Name = instance.GetType().Name;
    }

    public object Instance { get; }

    public override bool Implements(Hook hook) => _calls.ContainsKey(hook);

    protected override void InvokeScript(Hook hook, Trainer trainer) => _calls[hook](trainer);

    /// <summary>A delegate calling the method directly: MethodInfo.Invoke would cost more per call and wrap every exception.</summary>
    private static Action<Trainer> Compile(object instance, MethodInfo method)
    {
        var trainer = Expression.Parameter(typeof(Trainer), "trainer");
        var parameters = method.GetParameters();
        if (parameters is [var parameter] && !parameter.ParameterType.IsAssignableFrom(typeof(Trainer)))
            throw new ArgumentException($"The hook method {method.Name}({parameter.ParameterType.Name} ${parameter.Name}) cannot take the trainer: leave its parameter untyped, or type it [Isaacai.Trainer].");
        Expression[] arguments = parameters.Length == 0 ? [] : [Expression.Convert(trainer, parameters[0].ParameterType)];
        var call = Expression.Call(Expression.Constant(instance, method.DeclaringType!), method, arguments);
        return Expression.Lambda<Action<Trainer>>(call, trainer).Compile();
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
