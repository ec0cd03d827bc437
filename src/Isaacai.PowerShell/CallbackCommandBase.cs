using System.Management.Automation;

namespace Isaacai.PowerShell;

/// <summary>The -Order and -Name that every command making a callback takes, and how they apply.</summary>
public abstract class CallbackCommandBase : PSCmdlet
{
    [Parameter]
    public int Order { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>Sets Order and Name where the user gave them; otherwise the callback keeps its own.</summary>
    protected Callback WithOrderAndName(Callback callback)
    {
        if (MyInvocation.BoundParameters.ContainsKey(nameof(Order))) callback.Order = Order;
        if (Name is not null) callback.Name = Name;
        return callback;
    }
}
