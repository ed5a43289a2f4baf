// Integration tests start whole AlertNet hosts, and Hangfire keeps some configuration in static state:
// run test classes one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
