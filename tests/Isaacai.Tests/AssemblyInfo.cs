// torch's random generator is process-wide: tests that seed it (and the trainers that shuffle with it)
// must not run alongside each other, or one test's draws land in another's sequence.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Isaacai.Tests
{
    internal static class TestProcess
    {
        /// <summary>
        /// libtorch at one thread for the whole run, as the module and the benchmarks set it: at its default of
        /// one per core, how a convolution splits its work depends on the threads the machine grants, and tests
        /// that compare outputs bit for bit failed now and then on a loaded machine.
        /// </summary>
        [System.Runtime.CompilerServices.ModuleInitializer]
        internal static void UseOneTorchThread() => Isaacai.Runtime.TorchRuntime.SetThreads(1, "tests");
    }
}
