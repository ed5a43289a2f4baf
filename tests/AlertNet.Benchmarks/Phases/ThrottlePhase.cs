namespace AlertNet.Benchmarks.Phases;

/// <summary>e. Throttle accuracy at a configured rate.</summary>
/// <remarks>
/// The place for it once AlertNet throttles per sender (issue 4, item 4). How to measure then: start AlertNet under test
/// with the throttle set (e.g. 500 segments/s; a one-segment body), send an alert to about 60 s worth of recipients,
/// have the emulator record the arrival time of every create request (like the urgent markers), drop the first and
/// last 5 s, and report the achieved rate and its error against the configured rate over the steady part (target
/// ±3 %), also with two AlertNet processes sharing the sender.
/// </remarks>
internal static class ThrottlePhase
{
    public static Task RunAsync(BenchContext bench, CancellationToken cancellationToken)
    {
        bench.Report.Add(new Figure("e", "throttle accuracy at a configured rate", "not measured: no throttle yet", "within ±3 %", null));
        return Task.CompletedTask;
    }
}
