using System.Collections;
using System.Management.Automation;
using System.Runtime.CompilerServices;

namespace Isaacai.PowerShell;

/// <summary>
/// What Add-IsaacCallback -Hooks takes: a hashtable of hook names to scriptblocks (<c>@{ after_batch = { … } }</c>).
/// A class rather than a plain Hashtable only so that Tab completes the hook names as keys inside <c>@{ }</c>:
/// PowerShell offers the settable properties of a parameter's type there. Any hashtable converts to it
/// through the constructor, whatever its keys' spelling (<c>AfterBatch</c> too); the keys are checked when
/// the callback is made, with the error that names the nearest hook.
/// </summary>
public sealed class HookScripts(IDictionary hooks)
{
    /// <summary>An empty set; PowerShell completes keys only for types it could build from properties alone.</summary>
    public HookScripts() : this(new Hashtable(StringComparer.OrdinalIgnoreCase)) { }

    public IDictionary Hooks { get; } = hooks ?? throw new ArgumentNullException(nameof(hooks));

    // The seed's hook names, one property each, for completion; they read and write the hashtable.
#pragma warning disable IDE1006, CA1707 // named as the seed names the hooks, which is what completion must offer
    public ScriptBlock? before_fit { get => Get(); set => Set(value); }
    public ScriptBlock? after_fit { get => Get(); set => Set(value); }
    public ScriptBlock? cleanup_fit { get => Get(); set => Set(value); }
    public ScriptBlock? before_epoch { get => Get(); set => Set(value); }
    public ScriptBlock? after_epoch { get => Get(); set => Set(value); }
    public ScriptBlock? cleanup_epoch { get => Get(); set => Set(value); }
    public ScriptBlock? before_batch { get => Get(); set => Set(value); }
    public ScriptBlock? predict { get => Get(); set => Set(value); }
    public ScriptBlock? get_loss { get => Get(); set => Set(value); }
    public ScriptBlock? before_backward { get => Get(); set => Set(value); }
    public ScriptBlock? backward { get => Get(); set => Set(value); }
    public ScriptBlock? step { get => Get(); set => Set(value); }
    public ScriptBlock? zero_grad { get => Get(); set => Set(value); }
    public ScriptBlock? after_batch { get => Get(); set => Set(value); }
    public ScriptBlock? cleanup_batch { get => Get(); set => Set(value); }
#pragma warning restore IDE1006, CA1707

    private ScriptBlock? Get([CallerMemberName] string name = "") => Hooks[name] as ScriptBlock;

    private void Set(ScriptBlock? value, [CallerMemberName] string name = "") => Hooks[name] = value;
}
