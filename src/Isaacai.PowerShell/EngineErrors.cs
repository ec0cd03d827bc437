using System.Management.Automation;

namespace Isaacai.PowerShell;

/// <summary>How an engine failure reads in PowerShell: where a fit failed, the first error, what else failed while cleaning up, and no C++ stack.</summary>
internal static class EngineErrors
{
    /// <summary>
    /// libtorch appends its C++ stack (<c>Exception raised from … frame #0: c10::Error::Error…</c>) to its
    /// messages: the lines before it are the message a user can act on.
    /// </summary>
    public static string WithoutNativeFrames(string message)
    {
        var lines = message.Split('\n');
        int native = Array.FindIndex(lines, line => line.StartsWith("Exception raised from ", StringComparison.Ordinal) || line.StartsWith("frame #", StringComparison.Ordinal));
        return native <= 0 ? message : string.Join('\n', lines[..native]).TrimEnd();
    }

    /// <summary>Whether <paramref name="message"/> carries native frames that <see cref="WithoutNativeFrames"/> leaves out.</summary>
    public static bool HasNativeFrames(string message) => WithoutNativeFrames(message).Length != message.Length;

    /// <summary>
    /// The error record of a fit (or an LR range test) that failed: a busy trainer, a script callback's own
    /// record, a cancel thrown outside its level, or any other failure under <paramref name="failedErrorId"/>,
    /// each with the details <see cref="Describe"/> gives. libtorch's C++ stack goes to the verbose stream.
    /// </summary>
    public static ErrorRecord ForFit(Cmdlet cmdlet, Exception error, Trainer trainer, string failedErrorId)
    {
        if (HasNativeFrames(error.Message)) cmdlet.WriteVerbose(error.Message); // for a bug report
        return error switch
        {
            TrainerBusyException busy => Busy(busy, trainer),
            ScriptCallbackException script => Describe(script, script.ErrorRecord),
            // As in the seed, a cancel only skips the level it names; thrown outside that level, it ends the fit.
            CancelException cancel => new ErrorRecord(new InvalidOperationException(
                $"A {cancel.GetType().Name} was thrown where no {cancel.Level.ToString().ToLowerInvariant()} was running (from a fit or epoch hook, say), so it ended the whole fit. Throw it from a {cancel.Level.ToString().ToLowerInvariant()} hook, or cancel the level you are in.", cancel),
                "CancelOutsideItsLevel", ErrorCategory.InvalidOperation, trainer),
            _ => Describe(error, new ErrorRecord(error, failedErrorId, ErrorCategory.InvalidOperation, trainer)),
        };
    }

    /// <summary>A trainer another job holds (a fit in another runspace, say).</summary>
    public static ErrorRecord Busy(TrainerBusyException error, Trainer trainer) => new(error, "TrainerBusy", ErrorCategory.ResourceBusy, trainer);

    /// <summary><paramref name="record"/> with details naming the failed hook and callback, any cleanup failures, and libtorch's message without its C++ stack.</summary>
    public static ErrorRecord Describe(Exception error, ErrorRecord record)
    {
        var where = error.Data[Trainer.FailedHookKey] is string hook ? $"The fit failed at {hook} in callback '{error.Data[Trainer.FailedCallbackKey]}': " : "";
        var message = error is ScriptCallbackException ? error.Message : where + WithoutNativeFrames(error.Message);
        var cleanups = Trainer.CleanupErrorsOf(error);
        if (cleanups.Count > 0)
            message += Environment.NewLine + "While cleaning up, these callbacks failed too:" + string.Concat(cleanups.Select(c => Environment.NewLine + "  " +
                (c is ScriptCallbackException ? c.Message : $"The {c.Data[Trainer.FailedHookKey]} hook of callback '{c.Data[Trainer.FailedCallbackKey]}' failed: {WithoutNativeFrames(c.Message)}")));
        if (message != error.Message) record.ErrorDetails = new ErrorDetails(message);
        return record;
    }
}
