using System.Diagnostics;
using System.Globalization;
using System.Text;
using AlertNet.Alerts;
using AlertNet.Infrastructure.Database;
using AlertNet.Privacy;

namespace AlertNet.Benchmarks.Residue;

/// <summary>
/// The provider-residue check (run by infra/security.sh): AlertNet in LIVE mode against the Twilio emulator in a process
/// of its own, as it would run against Twilio. A day's traffic for N subscribers goes through the emulator: their JOIN
/// texts (each answered through the REST API), a few hotline reports, RIGHTS requests and STOPs, then one urgent alert to
/// everyone. Afterwards the emulator is asked what message records it still holds, which is what a subpoena to the
/// provider or a stolen provider credential would find. The target: none, within a minute of the alert settling.
/// </summary>
internal static class ProviderResidueRun
{
    private static readonly TimeSpan Target = TimeSpan.FromMinutes(1);

    public static async Task<int> RunAsync(string[] args)
    {
        var recipients = Argument(args, "--recipients") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : 1000;
        var output = Argument(args, "--out") is { } path ? Path.GetFullPath(path) : Path.GetFullPath(".local/security/provider-residue.md");
        using var overall = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var cancellationToken = overall.Token;

        var server = Environment.GetEnvironmentVariable("ALERTNET_BENCH_PG") is { Length: > 0 } configured ? configured : DatabaseSetup.LocalDefault;
        await using var database = await BenchDatabase.CreateAsync(server, cancellationToken);
        var account = FakeTwilioAccount.Create();
        await using var emulator = await EmulatorProcess.StartAsync(account, cancellationToken);
        var config = new AlertNetConfig(database.ConnectionString, KeyFile.NewKey(), KeyFile.NewKey(), account, emulator.BaseUrl);
        await using var alertNet = await InProcessAlertNet.StartAsync(config, cancellationToken);
        using var api = new AlertNetApi(alertNet.BaseUrl, await alertNet.CreateOrganizerTokenAsync(cancellationToken));
        var webhook = alertNet.BaseUrl + "/webhooks/twilio/inbound";
        Console.WriteLine($"provider residue: AlertNet (live mode) at {alertNet.BaseUrl}, emulator process {emulator.ProcessId} at {emulator.BaseUrl}");

        // Fictional numbers (+1 202 555 01xx and neighbours), valid for the number parser.
        var numbers = Enumerable.Range(0, recipients).Select(i => "+1202555" + (1000 + i).ToString("D4", CultureInfo.InvariantCulture)).ToArray();
        var started = Stopwatch.GetTimestamp();
        var texts = numbers.Select(number => (number, "JOIN"))
            .Concat(numbers.Take(10).Select(number => (number, "REPORT agents at the school on 5th")))
            .Concat(numbers.Skip(10).Take(5).Select(number => (number, "RIGHTS")))
            .ToList();
        await Parallel.ForEachAsync(texts, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (text, ct) => Expect200(await emulator.TextAsync(text.Item1, text.Item2, webhook, ct), text.Item2));
        var leaving = numbers[^3..];
        foreach (var number in leaving)
        {
            Expect200(await emulator.TextAsync(number, "STOP", webhook, cancellationToken), "STOP");
        }

        var textsTook = Stopwatch.GetElapsedTime(started);
        var triggered = Stopwatch.GetTimestamp();
        var alertId = await api.TriggerAsync(AlertType.Urgent, "default", "Checkpoint at 5th and Main. Know your rights.", cancellationToken);
        var dispatch = await AlertProgress.WaitUntilDoneAsync(database.Db, alertId, triggered, null, cancellationToken);
        var settled = Stopwatch.GetTimestamp();
        var stats = await emulator.StatsAsync(cancellationToken);
        Console.WriteLine($"  {Format.Count(texts.Count + leaving.Length)} texts in {Format.Seconds(textsTook)}; alert to {Format.Count(dispatch.Recipients)} " +
            $"done in {Format.Seconds(dispatch.DoneAfter)}; {Format.Count(stats.CreateRequests)} messages created at the emulator");

        Dictionary<string, int> held;
        var heldAtSettle = -1;
        while (true)
        {
            held = await emulator.HeldAsync(cancellationToken);
            heldAtSettle = heldAtSettle < 0 ? held.Values.Sum() : heldAtSettle;
            if (held.Values.Sum() == 0 || Stopwatch.GetElapsedTime(settled) > 2 * Target)
            {
                break;
            }

            await Task.Delay(500, cancellationToken);
        }

        var emptyAfter = Stopwatch.GetElapsedTime(settled);
        var left = held.Values.Sum();
        var met = left == 0 && emptyAfter <= Target;
        var heldText = left == 0 ? "none" : string.Join(", ", held.Select(h => $"{Format.Count(h.Value)} {h.Key}"));
        var summary = $"{Format.Count(recipients)} subscribers, {Format.Count(texts.Count + leaving.Length)} inbound texts, " +
            $"{Format.Count(stats.CreateRequests)} messages sent (replies and the alert); records held at the emulator when the alert " +
            $"settled: {Format.Count(heldAtSettle)}; {(left == 0 ? $"none left after {Format.Seconds(emptyAfter)}" : $"still held after {Format.Seconds(emptyAfter)}: {heldText}")} " +
            $"(target: none within {Target.TotalSeconds:0} s): {(met ? "met" : "MISSED")}";
        Console.WriteLine("provider residue: " + summary);

        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        var doc = new StringBuilder()
            .AppendLine("- **Nothing left at the provider, live mode** (`AlertNet.Benchmarks residue`: AlertNet in live mode against the " +
                "Twilio emulator in a process of its own, JOIN, REPORT, RIGHTS and STOP texts through it, then an urgent alert to " +
                "everyone): " + summary + ".");
        await File.WriteAllTextAsync(output, doc.ToString(), cancellationToken);
        return met ? 0 : 1;
    }

    private static void Expect200(int status, string text)
    {
        if (status != 200)
        {
            throw new InvalidOperationException($"The inbound webhook answered {status} to a {text} text.");
        }
    }

    private static string? Argument(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
