using System.Management.Automation;
using Isaacai.Sweeps;

namespace Isaacai.PowerShell.Sweeps;

/// <summary>
/// A trial as a flat pipeline object for tables, Sort-Object and Export-Csv: Trial, then each parameter as a
/// property, then how it ended. Duration is in seconds as a number, as an epoch record's elapsed is.
/// </summary>
public static class SweepTrialObject
{
    public const string TypeName = "Isaacai.SweepTrial";

    /// <summary>The properties every trial has; a parameter may not take one of these names.</summary>
    public static readonly string[] FixedProperties = ["Trial", "State", "Monitor", "Value", "BestEpoch", "Epochs", "Duration", "Host", "Seed", "Error"];

    public static PSObject From(TrialResult trial, string monitor)
    {
        var result = new PSObject();
        result.TypeNames.Insert(0, TypeName);
        result.Properties.Add(new PSNoteProperty("Trial", trial.Number));
        foreach (var (name, value) in trial.Parameters) result.Properties.Add(new PSNoteProperty(name, value));
        result.Properties.Add(new PSNoteProperty("State", trial.State));
        result.Properties.Add(new PSNoteProperty("Monitor", monitor));
        result.Properties.Add(new PSNoteProperty("Value", trial.Value));
        result.Properties.Add(new PSNoteProperty("BestEpoch", trial.BestEpoch));
        result.Properties.Add(new PSNoteProperty("Epochs", trial.Values.Count));
        result.Properties.Add(new PSNoteProperty("Duration", Math.Round(trial.Duration.TotalSeconds, 3)));
        result.Properties.Add(new PSNoteProperty("Host", trial.Host));
        result.Properties.Add(new PSNoteProperty("Seed", trial.Seed));
        result.Properties.Add(new PSNoteProperty("Error", trial.Error));
        return result;
    }
}

/// <summary>How Invoke-IsaacSweep stops clearly worse trials early.</summary>
public enum SweepPruner { None, Median, SuccessiveHalving }

/// <summary>What -PassThru adds after the trials: counts, the epochs trained, the best trial and where its model went.</summary>
public sealed class SweepSummary
{
    public required PSObject? Best { get; init; }
    public required int Trials { get; init; }
    public required int Completed { get; init; }
    public required int Pruned { get; init; }
    public required int Failed { get; init; }
    /// <summary>Epochs trained in this run, resumed trials not counted; a trial continued from a checkpoint counts only the epochs it added.</summary>
    public required int EpochsTrained { get; init; }
    public required double Duration { get; init; }
    public required string? Journal { get; init; }
    public required string? BestModelPath { get; init; }
}
