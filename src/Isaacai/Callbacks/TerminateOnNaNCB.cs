using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Isaacai.Callbacks;

/// <summary>
/// Ends the fit when a batch's loss is NaN or infinite: as a CancelFit with a warning naming the epoch
/// and batch, or, with <see cref="ErrorOnNaN"/>, as an error. With <see cref="RestoreWeights"/> the model
/// gets back the weights that last gave a finite loss (a copy is kept every batch: it costs a copy of the
/// weights per batch, so it is off by default).
/// </summary>
public class TerminateOnNaNCB : Callback, IDisposable
{
    private readonly WeightSnapshot _lastFinite = new();

    public TerminateOnNaNCB(bool errorOnNaN = false, bool restoreWeights = false)
    {
        ErrorOnNaN = errorOnNaN;
        RestoreWeights = restoreWeights;
        Order = 10; // after the loss is computed (BasicTrainCB, order 0), before backward
    }

    public bool ErrorOnNaN { get; }
    public bool RestoreWeights { get; }

    /// <summary>Where the last fit met a non-finite loss: (epoch, batch), or null.</summary>
    public (int Epoch, int Batch)? TerminatedAt { get; private set; }

    public override void BeforeFit(Trainer trainer)
    {
        TerminatedAt = null;
        _lastFinite.Clear();
    }

    public override void GetLoss(Trainer trainer)
    {
        var loss = trainer.Loss ?? throw new InvalidOperationException("TerminateOnNaNCB runs after the loss is computed, but no callback set trainer.Loss; give it a higher order than the callback that does.");
        double value = loss.detach().ToDouble();
        if (double.IsFinite(value))
        {
            if (RestoreWeights && trainer.Training) _lastFinite.Take(trainer.Model);
            return;
        }
        TerminatedAt = (trainer.Epoch, trainer.Iter);
        bool restored = RestoreWeights && !_lastFinite.IsEmpty;
        if (restored) _lastFinite.RestoreInto(trainer.Model);
        var message = $"The loss became {value} at epoch {trainer.Epoch}, {(trainer.Training ? "train" : "valid")} batch {trainer.Iter}; the fit was stopped"
            + (restored ? " and the weights of the last finite step restored." : RestoreWeights ? " (no finite step to restore)." : ".");
        if (ErrorOnNaN) throw new NonFiniteLossException(message);
        trainer.Logger.LogWarning("{Message}", message);
        throw new CancelFitException();
    }

    public void Dispose()
    {
        _lastFinite.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The loss became NaN or infinite and <see cref="TerminateOnNaNCB.ErrorOnNaN"/> asked for an error.</summary>
public sealed class NonFiniteLossException(string message) : ArithmeticException(message);
