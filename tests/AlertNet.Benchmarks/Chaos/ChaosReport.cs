using System.Globalization;
using System.Text;

namespace AlertNet.Benchmarks.Chaos;

/// <summary>Writes docs/reliability.md (or the quick run's file): the figures per scenario, then how they were made.</summary>
internal static class ChaosReport
{
    public static void Write(string path, ChaosScale scale, MachineInfo machine, IReadOnlyList<ChaosResult> results, TimeSpan total)
    {
        var text = new StringBuilder();
        text.AppendLine("# AlertNet reliability: chaos run");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Written by `bash infra/chaos.sh{(scale.Quick ? " --quick" : "")}` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, commit {machine.Commit}.");
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine.CpuModel}, {machine.Cores} cores, {machine.MemoryGiB:0.0} GiB; PostgreSQL {machine.PostgresVersion}; {machine.DotnetVersion}; {machine.Os}.");
        text.AppendLine(CultureInfo.InvariantCulture, $"Scale: {scale.Name}, {Format.Count(scale.Recipients)} recipients per scenario; whole run {Format.Seconds(total)}.");
        text.AppendLine();
        text.AppendLine("Target: every recipient gets each alert exactly once (0 lost, 0 duplicated), counted by the Twilio emulator per recipient.");
        text.AppendLine();
        text.AppendLine("| scenario | recipients | messages received | lost | duplicated | time to completion | target |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---|");
        foreach (var result in results)
        {
            text.AppendLine(result.TimeToCompletion is { } time
                ? $"| {result.Title} | {Format.Count(result.Recipients)} | {Format.Count(result.Received)} | {result.Lost} | {result.Duplicated} | {Format.Seconds(time)}"
                  + $"{(result.Recovery is { } recovery ? $" ({Format.Seconds(recovery)} after recovery)" : "")} | {(result.Met ? "met" : "**missed**")}{(result.Failure is null ? "" : $": {result.Failure}")} |"
                : $"| {result.Title} | {Format.Count(result.Recipients)} | – | – | – | {result.Notes} | **missed** |");
        }

        text.AppendLine();
        text.AppendLine("## What happened in each scenario");
        text.AppendLine();
        foreach (var result in results)
        {
            var unexpected = result.Unexpected > 0 ? $" {Format.Count(result.Unexpected)} messages went to numbers outside the alert." : "";
            text.AppendLine(CultureInfo.InvariantCulture, $"- **{result.Title}** (load average before: {result.LoadBefore}): {result.Notes}.{unexpected}");
        }

        text.AppendLine();
        text.Append(Method(scale));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text.ToString());
    }

    private static string Method(ChaosScale scale) => $"""
        ## How the figures are made

        - **Deployment**: AlertNet as it runs in production, on one machine: one `web` process (API, webhooks) and
          {ChaosDeployment.WorkerCount} `worker` processes (Hangfire servers, urgent and bulk lanes), each its own
          `dotnet AlertNet.dll`, in live mode against one PostgreSQL cluster of the run's own (infra/chaos.sh starts it
          on `ALERTNET_CHAOS_PG_PORT`, default 5435, so a restart disturbs nothing else), a fresh database per scenario. Default delivery settings
          (batches of 250, 8 batch jobs per alert, 16 requests in flight per job), except the recovery timings:
          claim lease 10 s (default 60), sweep every 1 s (15), stall after 3 s (30), status check after 5 s (900).
          They decide how soon a dead worker's claims are taken over and a lost callback is looked up, not whether.
        - **Carrier**: the Twilio-compatible emulator of the bench command (the drill carrier simulator on Kestrel) in
          a process of its own, with made-up credentials; it posts signed status callbacks to the web process and counts
          the messages it accepted per recipient (To). **Lost** = recipients with no message, **duplicated** =
          messages beyond the first per recipient, **messages received** = messages to the alert's recipients.
        - **Alert**: one urgent alert (two in k), one SMS segment, to every subscriber (made-up numbers +1 202 5xx xxxx, loaded
          with binary COPY). **Time to completion** = trigger (POST /api/alerts) until the alert is done and every
          delivery is settled (delivered, or otherwise final) in AlertNet's database. After that the run waits until
          the emulator's counts have been still for 3 s before counting, so a late resend would be seen.
        - **k**: worker processes are SIGKILLed at random instants (a seeded draw, {ChaosScenarios.KillSeed}: a pause of 0.2 to
          {2 * ChaosScale.KillInterval.TotalSeconds:0} s, then two times in five the worker launched last, else any of the three), starting up or
          working, each replaced at once, until both alerts are complete: the first urgent alert, and a second one triggered after the
          third kill. A kill during start-up can leave Hangfire lock rows behind (registering recurring jobs, the schedulers); the
          scenario fails if any worker exits by itself while starting, and after the last kill every replacement must come up.
          **Lost** and **duplicated** count messages against two per recipient. At full scale the send is unthrottled; `--quick`
          throttles it to 100 segments/s so that the kills land mid-alert.
        - **p**: when a quarter of the messages have reached the emulator, PostgreSQL is stopped (`pg_ctl stop -m fast`,
          every connection dropped), left down for 3 s, and started again.
        - **f**: the emulator answers create-message requests with faults, by a seeded draw per recipient and attempt
          (the same run gives the same faults whatever the timing): {ChaosScenarios.Faults.Replace(",", ", ", StringComparison.Ordinal)}
          (percent). 429 and 500 come before acceptance; a *timeout* accepts the message (it is sent and its callbacks
          come) but never answers, holding the request until AlertNet gives up after its Twilio request timeout
          ({ChaosScenarios.FaultRequestTimeoutSeconds} s here, `Twilio:RequestTimeoutSeconds`, default 15); a *reset*
          drops the connection before acceptance. List and fetch requests (reconciliation, status checks) get no faults.
        - **o**: AlertNet reaches the emulator through a TCP proxy in the chaos process. Once a third of the messages have
          reached the emulator, the proxy stops listening (connections refused) and drops every connection it carries (requests
          under way get no answer: ambiguous sends) for {(scale.Quick ? "20 s (`--quick`)" : "2 minutes")}, then listens again;
          the emulator's status callbacks still reach the web process meanwhile. Every AlertNet process must stay up throughout
          (checked each second; the scenario misses its target if one exits), and the rest of the alert must go out once by
          itself. **Time to completion** is from the trigger; *after recovery* is from the carrier's return until every
          delivery is settled. /readyz's `provider` field is read half-way through the outage. At full scale the send is
          unthrottled; `--quick` throttles it to 100 segments/s.
        - Reproduce: `bash infra/chaos.sh` (full, this file) or `bash infra/chaos.sh --quick` (500 recipients,
          `.local/chaos/reliability-quick.md`); `--scenarios kpfo` picks scenarios.

        """;
}
