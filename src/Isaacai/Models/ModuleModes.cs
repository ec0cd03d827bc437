using static TorchSharp.torch;

namespace Isaacai.Models;

/// <summary>
/// Every module's own train/eval mode, put back on dispose. <c>model.train(wasTraining)</c> would set every
/// submodule alike, turning back on a BatchNorm layer its user had put in eval mode on purpose.
/// </summary>
internal sealed class ModuleModes : IDisposable
{
    private readonly List<(nn.Module Module, bool Training)> _modes;

    private ModuleModes(nn.Module model) =>
        _modes = [(model, model.training), .. model.named_modules().OrderBy(m => m.name.Count(c => c == '.')).Select(m => (m.module, m.module.training))];

    /// <summary>Remembers the modes, then puts the whole model in eval mode.</summary>
    public static ModuleModes Eval(nn.Module model)
    {
        var modes = new ModuleModes(model);
        model.eval();
        return modes;
    }

    public void Dispose()
    {
        foreach (var (module, training) in _modes) module.train(training);
    }
}
