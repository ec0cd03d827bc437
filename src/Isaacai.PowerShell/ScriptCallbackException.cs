using System.Management.Automation;

namespace Isaacai.PowerShell;

/// <summary>
/// The one exception a failing script callback (scriptblock or PowerShell class) surfaces as: it names
/// the hook and the callback, and keeps the script's own error record with its position.
/// </summary>
public sealed class ScriptCallbackException : Exception, IContainsErrorRecord
{
    public ScriptCallbackException(string hook, string callbackName, Exception inner, ErrorRecord? scriptError)
        : base(Describe(hook, callbackName, inner, scriptError), inner)
    {
        Hook = hook;
        CallbackName = callbackName;
        ScriptError = scriptError;
        ErrorRecord = new ErrorRecord(this, "ScriptCallbackFailed", ErrorCategory.InvalidOperation, callbackName);
    }

    /// <summary>The hook as the seed names it, e.g. <c>after_batch</c>.</summary>
    public string Hook { get; }
    public string CallbackName { get; }

    /// <summary>The error as the script raised it; its InvocationInfo holds the script's position.</summary>
    public ErrorRecord? ScriptError { get; }

    public int ScriptLineNumber => ScriptError?.InvocationInfo?.ScriptLineNumber ?? 0;
    public string? ScriptName => ScriptError?.InvocationInfo?.ScriptName;

    public ErrorRecord ErrorRecord { get; }

    private static string Describe(string hook, string callbackName, Exception inner, ErrorRecord? scriptError)
    {
        var position = scriptError?.InvocationInfo?.PositionMessage;
        var message = EngineErrors.WithoutNativeFrames(scriptError?.Exception?.Message ?? inner.Message);
        return $"The {hook} hook of callback '{callbackName}' failed: {message}" + (string.IsNullOrEmpty(position) ? "" : Environment.NewLine + position);
    }
}
