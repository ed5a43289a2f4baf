using System.Diagnostics;
using AlertNet.Alerts;

namespace AlertNet.Benchmarks.Phases;

/// <summary>f. One urgent alert to 1M recipients: total dispatch time and AlertNet's peak RSS.</summary>
/// <remarks>AlertNet runs as its own process here. In the benchmark's process VmHWM would also count the load
/// generator, the earlier phases' garbage and the 100k row lists the benchmark kept, and could not be told apart.</remarks>
internal static class MillionPhase
{
    private const string Phase = "f";
    private const long RssTarget = 500L * 1024 * 1024;

    public static async Task RunAsync(BenchContext bench, CancellationToken cancellationToken)
    {
        var more = bench.Scale.Million - bench.Scale.Recipients;
        var loaded = await bench.Database.AddSubscribersAsync(bench.Protector, bench.Scale.Recipients, more, bench.DefaultGroupId, cancellationToken);
        bench.Report.Note(Phase, $"setup: {Format.Count(more)} more subscribers loaded (COPY, memberships, VACUUM ANALYZE) in {Format.Seconds(loaded)}");
        await bench.Database.VacuumAnalyzeAsync(["deliveries", "alerts"], cancellationToken);

        await bench.StopInProcessAlertNetAsync();
        await bench.Emulator.ResetAsync(cancellationToken);
        await using var alertNet = await AlertNetProcess.StartAsync(bench.Config, bench.RepoRoot, cancellationToken);
        using var api = new AlertNetApi(alertNet.BaseUrl, bench.OrganizerToken);
        var (startupPeak, _) = ChildProcesses.Memory(alertNet.ProcessId);
        bench.Report.Note(Phase, $"AlertNet process {alertNet.ProcessId} started; peak RSS after start-up {Format.MiB(startupPeak)}");

        var cpu = CpuMeter.Take();
        await using var waits = WaitSampler.Start(bench.Db);
        var triggered = Stopwatch.GetTimestamp();
        var alertId = await api.TriggerAsync(AlertType.Urgent, "default", "Agents seen at 5th and Main. Know your rights: you may remain silent.",
            cancellationToken);
        var (fanOut, _) = await AlertProgress.WaitForFanOutAsync(bench.Db, alertId, triggered, cancellationToken);
        bench.Report.Note(Phase, $"fan-out transaction for {Format.Count(bench.Scale.Million)}: {Format.Seconds(fanOut)}");
        AlertProgress.Dispatch dispatch;
        // A deadline of its own, before the phase's timeout, so that a send too slow to finish still yields its
        // figures (how far it got, the peak so far) instead of nothing.
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            deadline.CancelAfter(bench.Scale.MillionDispatchDeadline);
            try
            {
                dispatch = await AlertProgress.WaitUntilDoneAsync(bench.Db, alertId, triggered, async elapsed =>
                {
                    var stats = await bench.Emulator.StatsAsync(deadline.Token);
                    var (_, rss) = ChildProcesses.Memory(alertNet.ProcessId);
                    Console.WriteLine($"    {Format.Seconds(elapsed)}: {Format.Count(stats.CreateRequests)} sent, AlertNet RSS {Format.MiB(rss)}");
                }, deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                var sent = (await bench.Emulator.StatsAsync(cancellationToken)).CreateRequests;
                var (peakSoFar, _) = ChildProcesses.Memory(alertNet.ProcessId);
                bench.Report.Add(new Figure(Phase, $"dispatch, {Format.Count(bench.Scale.Million)} recipients, urgent lane, total time",
                    $"not finished: {Format.Count(sent)} sent in {Format.Seconds(bench.Scale.MillionDispatchDeadline)}", "≤ 11× the 100k time", false,
                    "the send rate of b is the limit: see there."));
                bench.Report.Add(new Figure(Phase, "peak RSS of the AlertNet process (VmHWM), so far", Format.MiB(peakSoFar), "≤ 500 MiB",
                    peakSoFar <= RssTarget));
                return;
            }
        }

        var (peak, rssAtDone) = ChildProcesses.Memory(alertNet.ProcessId);
        var usage = CpuMeter.Measure(cpu, CpuMeter.Take());
        var profile = await waits.StopAsync();
        bench.Report.Note(Phase, $"trigger to done: {usage.Text}");
        bench.Report.Note(Phase, $"trigger to done: {profile}");
        var stats = await bench.Emulator.StatsAsync(cancellationToken);
        bench.Report.Note(Phase, $"trigger → fanned out {Format.Seconds(dispatch.FannedOutAfter)}, → done {Format.Seconds(dispatch.DoneAfter)} " +
            $"({Format.Rate(dispatch.MessagesPerSecond, "msg/s")}); emulator got {Format.Count(stats.CreateRequests)} create requests for " +
            $"{Format.Count(dispatch.Recipients)} recipients; RSS at done {Format.MiB(rssAtDone)}; " +
            $"{Format.Count(2 * stats.CreateRequests - stats.CallbacksPosted - stats.CallbacksFailed)} status callbacks still to come");

        bench.Report.Add(new Figure(Phase, $"dispatch, {Format.Count(dispatch.Recipients)} recipients, urgent lane, total time",
            Format.Seconds(dispatch.DoneAfter) + $" ({Format.Rate(dispatch.MessagesPerSecond, "msg/s")})", "—", null));
        if (bench.Urgent100k is { } small)
        {
            var ratio = dispatch.DoneAfter / small.DoneAfter;
            bench.Report.Add(new Figure(Phase, $"{Format.Count(dispatch.Recipients)} time ÷ {Format.Count(small.Recipients)} time (b, urgent lane)",
                Format.Ratio(ratio), "≤ 11×", ratio <= 11,
                Diagnosis.Limit(profile, usage.OthersPercent,
                    "The fan-out of all recipients is one INSERT … SELECT in one transaction before the first send, and the " +
                    "deliveries table and its indexes outgrow shared_buffers (256 MB). Fanning out in chunks, sending from the " +
                    "first chunk on, would move it.")));
        }
        else
        {
            bench.Report.Add(new Figure(Phase, "1M time ÷ 100k time", "not measured: phase b did not finish", "≤ 11×", null));
        }

        // The callback storm goes on after the last send; wait for it (bounded) so the peak includes it.
        var drained = await bench.Emulator.WaitForCallbacksAsync(bench.Scale.PhaseTimeout / 3, cancellationToken);
        var (peakAfterCallbacks, _) = ChildProcesses.Memory(alertNet.ProcessId);
        bench.Report.Note(Phase, "status callbacks " + (drained is { } d ? $"all in {Format.Seconds(d)} after done" : "NOT all in within the wait") +
            $"; peak RSS including them {Format.MiB(peakAfterCallbacks)}");
        bench.Report.Add(new Figure(Phase, "peak RSS of the AlertNet process (VmHWM)",
            $"{Format.MiB(peak)} at done, {Format.MiB(peakAfterCallbacks)} with the callbacks", "≤ 500 MiB", Math.Max(peak, peakAfterCallbacks) <= RssTarget,
            "TODO(lead): look at a dotnet-counters / dotnet-gcdump of the AlertNet process; server GC (the default for ASP.NET Core) " +
            "sizes its heaps by core count and allocation rate rather than by need, and GCHeapHardLimit or " +
            "DOTNET_GCConserveMemory would show how much of it is garbage."));
        await bench.Emulator.ResetAsync(cancellationToken);
    }
}
