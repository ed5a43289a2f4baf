using System.Diagnostics;
using AlertNet.Alerts;

namespace AlertNet.Benchmarks.Phases;

/// <summary>e. Throttle accuracy: the send rate the emulator sees against Delivery:SegmentsPerSecond, with two
/// AlertNet processes (web+worker and worker) sharing one sender.</summary>
internal static class ThrottlePhase
{
    private const string Phase = "e";

    /// <summary>Well below what the engine sends unthrottled on this machine (b), so the throttle is what limits.</summary>
    private const int SegmentsPerSecond = 200;

    /// <summary>GSM-7 and under 160 characters in both languages: one segment per message, so msg/s = segments/s.</summary>
    private const string OneSegmentBody = "Know your rights: you do not have to open the door. Reply HELP for help.";

    public static async Task RunAsync(BenchContext bench, CancellationToken cancellationToken)
    {
        var seconds = bench.Scale.Quick ? 15 : 40;
        var recipients = SegmentsPerSecond * seconds;
        await bench.Database.CreateGroupOfFirstSubscribersAsync("bench-throttle", recipients, cancellationToken);

        await bench.StopInProcessAlertNetAsync();
        await bench.Emulator.ResetAsync(cancellationToken);
        var throttled = new Dictionary<string, string?> { ["Delivery:SegmentsPerSecond"] = SegmentsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        await using var web = await AlertNetProcess.StartAsync(bench.Config, bench.RepoRoot, cancellationToken, overrides: throttled);
        await using var worker = await AlertNetProcess.StartAsync(bench.Config, bench.RepoRoot, cancellationToken, "worker", web.BaseUrl, throttled);
        using var api = new AlertNetApi(web.BaseUrl, bench.OrganizerToken);

        var triggered = Stopwatch.GetTimestamp();
        var alertId = await api.TriggerAsync(AlertType.KnowYourRights, "bench-throttle", OneSegmentBody, cancellationToken);
        // The emulator's request count, sampled every 100 ms: (seconds since trigger, count).
        var samples = new List<(double Seconds, long Count)>();
        var done = AlertProgress.WaitUntilDoneAsync(bench.Db, alertId, triggered, null, cancellationToken);
        while (!done.IsCompleted)
        {
            var count = (await bench.Emulator.StatsAsync(cancellationToken)).CreateRequests;
            samples.Add((Stopwatch.GetElapsedTime(triggered).TotalSeconds, count));
            await Task.WhenAny(done, Task.Delay(100, cancellationToken));
        }

        var dispatch = await done;
        // The last requests may have come after the last sample: one more, now that all are in.
        var total = (await bench.Emulator.StatsAsync(cancellationToken)).CreateRequests;
        samples.Add((Stopwatch.GetElapsedTime(triggered).TotalSeconds, total));
        if (total == 0)
        {
            bench.Report.Add(new Figure(Phase, "throttle accuracy", "not measured: the emulator saw no request", "within ±3 %", null));
            return;
        }

        // The steady part: from 3 s after the first request to 1 s before the last, so start-up (fan-out, the first
        // job pickup) and the tail (the last jobs finishing) do not count.
        var first = samples.First(s => s.Count > 0).Seconds;
        var last = samples.First(s => s.Count >= total).Seconds;
        var window = samples.Where(s => s.Seconds >= first + 3 && s.Seconds <= last - 1).ToList();
        if (window.Count < 2)
        {
            bench.Report.Add(new Figure(Phase, "throttle accuracy", "not measured: the send was too short for a steady window", "within ±3 %", null));
            return;
        }

        var rate = (window[^1].Count - window[0].Count) / (window[^1].Seconds - window[0].Seconds);
        var error = rate / SegmentsPerSecond - 1;
        bench.Report.Note(Phase, $"{Format.Count(total)} of {Format.Count(dispatch.Recipients)} one-segment messages at a configured {SegmentsPerSecond} segments/s, two " +
            $"AlertNet processes; first request {first:0.0} s after the trigger, last {last:0.0} s; steady window " +
            $"{window[0].Seconds:0.0}–{window[^1].Seconds:0.0} s: {Format.Count(window[^1].Count - window[0].Count)} requests");
        bench.Report.Add(new Figure(Phase, $"throttle accuracy at {SegmentsPerSecond} segments/s, two processes",
            $"{rate:0.0} msg/s ({error * 100:+0.0;-0.0} %)", "within ±3 %", Math.Abs(error) <= 0.03,
            "TODO(lead): the throttle reserves a tenth of a second's worth of segments at a time from the sender_throttle row; " +
            "check whether the slices or the process start-up skew the rate."));
        await bench.Emulator.WaitForCallbacksAsync(TimeSpan.FromMinutes(2), cancellationToken);
        await bench.Emulator.ResetAsync(cancellationToken);
    }
}
