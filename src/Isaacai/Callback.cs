namespace Isaacai;

/// <summary>
/// A piece of the training loop. Override the hooks you need; the trainer calls only overridden ones.
/// Callbacks run sorted by <see cref="Order"/> (ties keep the order they were added in).
/// </summary>
public abstract class Callback
{
    private string? _name;

    /// <summary>Lower runs first. Defaults to 0, as in the seed.</summary>
    public int Order { get; set; }

    /// <summary>A name to find or remove the callback by; the type name unless set.</summary>
    public string Name { get => _name ?? GetType().Name; set => _name = value; }

    /// <summary>Names of callbacks this one must run before, whatever their orders (names are case-insensitive).</summary>
    public ISet<string> RunsBefore { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Names of callbacks this one must run after, whatever their orders.</summary>
    public ISet<string> RunsAfter { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether this callback does anything at <paramref name="hook"/>. By default: whether it overrides it.</summary>
    public virtual bool Implements(Hook hook) => OverriddenHooks.Of(GetType()).Contains(hook);

    public virtual void BeforeFit(Trainer trainer) { }
    public virtual void AfterFit(Trainer trainer) { }
    public virtual void CleanupFit(Trainer trainer) { }
    public virtual void BeforeEpoch(Trainer trainer) { }
    public virtual void AfterEpoch(Trainer trainer) { }
    public virtual void CleanupEpoch(Trainer trainer) { }
    public virtual void BeforeBatch(Trainer trainer) { }
    public virtual void Predict(Trainer trainer) { }
    public virtual void GetLoss(Trainer trainer) { }
    public virtual void BeforeBackward(Trainer trainer) { }
    public virtual void Backward(Trainer trainer) { }
    public virtual void Step(Trainer trainer) { }
    public virtual void ZeroGrad(Trainer trainer) { }
    public virtual void AfterBatch(Trainer trainer) { }
    public virtual void CleanupBatch(Trainer trainer) { }

    /// <summary>
    /// Calls the method for <paramref name="hook"/>; a switch, so dispatch costs no reflection. Adapters
    /// whose hooks are not methods (scripts, say) override this and <see cref="Implements"/> instead.
    /// </summary>
    public virtual void Invoke(Hook hook, Trainer trainer)
    {
        switch (hook)
        {
            case Hook.BeforeFit: BeforeFit(trainer); break;
            case Hook.AfterFit: AfterFit(trainer); break;
            case Hook.CleanupFit: CleanupFit(trainer); break;
            case Hook.BeforeEpoch: BeforeEpoch(trainer); break;
            case Hook.AfterEpoch: AfterEpoch(trainer); break;
            case Hook.CleanupEpoch: CleanupEpoch(trainer); break;
            case Hook.BeforeBatch: BeforeBatch(trainer); break;
            case Hook.Predict: Predict(trainer); break;
            case Hook.GetLoss: GetLoss(trainer); break;
            case Hook.BeforeBackward: BeforeBackward(trainer); break;
            case Hook.Backward: Backward(trainer); break;
            case Hook.Step: Step(trainer); break;
            case Hook.ZeroGrad: ZeroGrad(trainer); break;
            case Hook.AfterBatch: AfterBatch(trainer); break;
            case Hook.CleanupBatch: CleanupBatch(trainer); break;
            default: throw new ArgumentOutOfRangeException(nameof(hook), hook, "Unknown hook.");
        }
    }

    public override string ToString() => $"{Name} (order {Order})";
}

/// <summary>Which hooks a callback type overrides, found by reflection once per type.</summary>
internal static class OverriddenHooks
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, HashSet<Hook>> Cache = new();

    public static HashSet<Hook> Of(Type type) => Cache.GetOrAdd(type, static t => HookNames.All
        .Where(hook => t.GetMethod(hook.ToString(), [typeof(Trainer)])?.DeclaringType != typeof(Callback))
        .ToHashSet());
}
