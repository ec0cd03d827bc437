// torch's random generator is process-wide: tests that seed it (and the trainers that shuffle with it)
// must not run alongside each other, or one test's draws land in another's sequence.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
