using System.Diagnostics;
using AlertNet.Alerts;

namespace AlertNet.Benchmarks.Phases;

/// <summary>c. Urgent trigger → first Twilio request at the emulator, p50/p99, idle and while a 100k bulk campaign runs.</summary>
internal static class UrgentLatencyPhase
{
    private const string Phase = "c";

    /// <summary>Longer than this and the sample counts as lost (and as above any percentile).</summary>
    private static readonly TimeSpan SampleTimeout = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(BenchContext bench, CancellationToken cancellationToken)
    {
        await bench.Emulator.ResetAsync(cancellationToken);
        await SeriesAsync(bench, "idle", underBulkLoad: false, cancellationToken);
        await bench.Emulator.WaitForCallbacksAsync(TimeSpan.FromMinutes(1), cancellationToken);
        await bench.Emulator.ResetAsync(cancellationToken);

        var lastBulk = await SeriesAsync(bench, "under bulk load", underBulkLoad: true, cancellationToken);
        if (lastBulk is { } bulkId)
        {
            // Let the last campaign finish, so its sends and callbacks stay out of the next phase.
            await AlertProgress.WaitUntilDoneAsync(bench.Db, bulkId, Stopwatch.GetTimestamp(), null, cancellationToken);
        }

        await bench.Emulator.WaitForCallbacksAsync(bench.Scale.PhaseTimeout, cancellationToken);
        await bench.Emulator.ResetAsync(cancellationToken);
    }

    /// <summary>Triggers one urgent alert at a time and waits for its first request at the emulator. Returns the
    /// last bulk campaign started, if any.</summary>
    private static async Task<long?> SeriesAsync(BenchContext bench, string series, bool underBulkLoad, CancellationToken cancellationToken)
    {
        var latencies = new List<double>();
        var lost = 0;
        long? bulkId = null;
        var bulkCampaigns = 0;
        var cpu = CpuMeter.Take();
        await using var waits = WaitSampler.Start(bench.Db);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < bench.Scale.UrgentTriggers; i++)
        {
            if (underBulkLoad && (bulkId is null || await AlertProgress.StateAsync(bench.Db, bulkId.Value, cancellationToken) == "done"))
            {
                bulkId = await bench.Api.TriggerAsync(AlertType.KnowYourRights, "default",
                    $"Know your rights, campaign {bulkCampaigns + 1}: you may remain silent.", cancellationToken);
                bulkCampaigns++;
            }

            // A random gap, so that triggers do not fall into step with Hangfire's 200 ms queue poll and sample only one phase of it.
#pragma warning disable CA5394 // Not security: spreading trigger times.
            await Task.Delay(Random.Shared.Next(0, 100), cancellationToken);
#pragma warning restore CA5394

            var marker = $"{(underBulkLoad ? "load" : "idle")}-{i}";
            var triggered = Stopwatch.GetTimestamp();
            await bench.Api.TriggerAsync(AlertType.Urgent, BenchContext.UrgentGroup,
                $"Agents seen at 5th and Main. {Emulator.MarkerPrefix}{marker}]", cancellationToken);
            if (await bench.Emulator.WaitForMarkAsync(marker, SampleTimeout, cancellationToken) is { } arrived)
            {
                latencies.Add(Stopwatch.GetElapsedTime(triggered, arrived).TotalMilliseconds);
            }
            else
            {
                lost++;
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var usage = CpuMeter.Measure(cpu, CpuMeter.Take());
        var profile = await waits.StopAsync();
        bench.Report.Note(Phase, $"{series}: {usage.Text}");
        bench.Report.Note(Phase, $"{series}: {profile}");
        var sorted = latencies.Order().ToList();
        // A lost sample is slower than any that arrived: count it at the top end.
        sorted.AddRange(Enumerable.Repeat(double.PositiveInfinity, lost));
        var p50 = Format.Percentile(sorted, 50);
        var p99 = Format.Percentile(sorted, 99);
        string Ms(double ms) => double.IsInfinity(ms) ? $"> {SampleTimeout.TotalSeconds:0} s" : Format.Ms(ms);

        bench.Report.Add(new Figure(Phase, $"urgent trigger → first Twilio request, {series}, {sorted.Count} triggers",
            $"p50 {Ms(p50)}, p99 {Ms(p99)}", "p99 ≤ 1 s", p99 <= 1000,
            Diagnosis.Limit(profile, usage.OthersPercent,
                "An urgent alert waits for the urgent Hangfire server's next queue poll (QueuePollInterval 200 ms) before " +
                "DispatchAlertJob fans it out and sends. " +
                (underBulkLoad ? "Under load the bulk campaign's fan-out and sends compete for the same cores and for PostgreSQL. " : "") +
                "A wake-up signal (in-process, or LISTEN/NOTIFY across processes) instead of the poll would move it.")));
        bench.Report.Note(Phase, $"{series}: {latencies.Count} samples, {lost} lost (> {SampleTimeout.TotalSeconds:0} s); " +
            (latencies.Count > 0 ? $"min {Format.Ms(sorted[0])}, mean {Format.Ms(latencies.Average())}, max {Ms(sorted[^1])}; " : "") +
            $"series took {Format.Seconds(elapsed)}" +
            (underBulkLoad ? $"; {bulkCampaigns} bulk campaign(s) of {Format.Count(bench.Scale.Recipients)} ran meanwhile" : ""));
        return bulkId;
    }
}
