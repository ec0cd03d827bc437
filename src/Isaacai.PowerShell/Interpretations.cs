using System.Management.Automation;
using System.Runtime.InteropServices;
using Isaacai.Data.Images;
using Isaacai.Interpretation;

namespace Isaacai.PowerShell;

/// <summary>A trainer's model on its valid split, for the commands that show what it gets right and wrong, and how their failures read.</summary>
internal static class Interpretations
{
    /// <summary>The interpretation of <paramref name="trainer"/>'s valid split, or a terminating error that says why there is none.</summary>
    public static ClassificationInterpretation Of(PSCmdlet cmdlet, Trainer trainer)
    {
        try { return ClassificationInterpretation.FromTrainer(trainer); }
        catch (Exception e) when (ErrorFor(cmdlet, e, trainer) is { } record)
        {
            cmdlet.ThrowTerminatingError(record);
            throw; // not reached: ThrowTerminatingError throws
        }
    }

    /// <summary>
    /// The error record of a failed interpretation (or of a picture of one): not a classifier, no images to
    /// draw, a busy trainer, an unreadable image file, a model that does not fit its data; null for anything else.
    /// </summary>
    public static ErrorRecord? ErrorFor(Cmdlet cmdlet, Exception error, Trainer trainer)
    {
        if (EngineErrors.HasNativeFrames(error.Message)) cmdlet.WriteVerbose(error.Message); // libtorch's C++ stack, for a bug report
        return error switch
        {
            NotAClassifierException => new ErrorRecord(error, "NotAClassifier", ErrorCategory.InvalidArgument, trainer),
            NotSupportedException => new ErrorRecord(error, "NoImagesToShow", ErrorCategory.InvalidOperation, trainer),
            TrainerBusyException busy => EngineErrors.Busy(busy, trainer),
            ImageFileException file => new ErrorRecord(file, "UnreadableImage", ErrorCategory.ReadError, file.Path),
            ObjectDisposedException => new ErrorRecord(error, "DatasetDisposed", ErrorCategory.InvalidOperation, trainer),
            ExternalException or InvalidOperationException => EngineErrors.Describe(error, new ErrorRecord(error, "InterpretationFailed", ErrorCategory.InvalidOperation, trainer)),
            _ => null,
        };
    }
}
