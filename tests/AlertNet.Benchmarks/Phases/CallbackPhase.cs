using System.Diagnostics;
using AlertNet.Infrastructure.Twilio;
using Dapper;

namespace AlertNet.Benchmarks.Phases;

/// <summary>d. Signed status callbacks ingested per second, many clients at once, each moving a delivery forward.</summary>
internal static class CallbackPhase
{
    private const string Phase = "d";

    public static async Task RunAsync(BenchContext bench, CancellationToken cancellationToken)
    {
        // 100k deliveries as they are right after sending: accepted, with a SID. The alert is marked done so that
        // no sender or sweeper touches them; callbacks do not look at the alert.
        var (alertId, recipients, _) = await FanOutPhase.FanOutDirectlyAsync(bench, bench.DefaultGroupId, cancellationToken);
        try
        {
            List<(long Id, string Sid)> deliveries;
            await using (var connection = await bench.Db.OpenConnectionAsync(cancellationToken))
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    UPDATE deliveries SET state = 'accepted', twilio_sid = 'SM' || md5(id::text), accepted_at = now(), attempts = 1
                    WHERE alert_id = @alertId;
                    UPDATE alerts SET state = 'done', finished_at = now() WHERE id = @alertId;
                    """,
                    new { alertId }, cancellationToken: cancellationToken, commandTimeout: 600));
                deliveries = (await connection.QueryAsync<(long, string)>(new CommandDefinition(
                    "SELECT id, twilio_sid FROM deliveries WHERE alert_id = @alertId ORDER BY id", new { alertId },
                    cancellationToken: cancellationToken))).ToList();
            }

            await bench.Database.VacuumAnalyzeAsync(["deliveries"], cancellationToken);
            var cpu = CpuMeter.Take();
            var (elapsed, refused) = await PostCallbacksAsync(bench, deliveries, cancellationToken);
            bench.Report.Note(Phase, $"while posting: {CpuMeter.Describe(cpu, CpuMeter.Take())}");
            var callbacks = 2L * deliveries.Count;
            var rate = callbacks / elapsed.TotalSeconds;
            var counts = await AlertProgress.CountsAsync(bench.Db, alertId, cancellationToken);
            bench.Report.Note(Phase, $"{Format.Count(callbacks)} callbacks ('sent' then 'delivered' for {Format.Count(recipients)} deliveries) " +
                $"from {BenchScale.CallbackClients} clients in {Format.Seconds(elapsed)}; {Format.Count(refused)} not answered 200; " +
                $"delivered afterwards: {Format.Count(counts.GetValueOrDefault("delivered"))}");
            bench.Report.Add(new Figure(Phase, "status callbacks ingested", Format.Rate(rate, "callbacks/s"), "≥ 5,000/s", rate >= 5000,
                "each callback is one request through Kestrel, form parsing, the SDK's RequestValidator (HMAC-SHA1 over the URL " +
                "and every field), the Mediator handler, a pooled connection and one single-row UPDATE in its own transaction " +
                "(a WAL flush per commit); the 64 clients signing and posting them share the two cores. Batching updates " +
                "(a channel drained by one writer, one UPDATE … FROM unnest per few hundred callbacks) or " +
                "synchronous_commit = off for this forward-only, idempotent update would move it. TODO(lead): confirm with a profile."));
        }
        finally
        {
            await FanOutPhase.DeleteAlertAsync(bench, alertId, CancellationToken.None);
        }
    }

    private static async Task<(TimeSpan Elapsed, long Refused)> PostCallbacksAsync(BenchContext bench, List<(long Id, string Sid)> deliveries,
        CancellationToken cancellationToken)
    {
        var baseUrl = bench.AlertNet.BaseUrl;
        var token = bench.Config.Twilio.AuthToken;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = BenchScale.CallbackClients })
        {
            BaseAddress = new Uri(baseUrl),
            Timeout = TimeSpan.FromSeconds(30),
        };
        var next = -1;
        long refused = 0;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, BenchScale.CallbackClients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < deliveries.Count)
            {
                var (id, sid) = deliveries[i];
                // Twilio's order for a good message; each callback moves the row forward.
                foreach (var status in new[] { "sent", "delivered" })
                {
                    var pathAndQuery = $"/webhooks/twilio/status?deliveryId={id}";
                    var fields = new Dictionary<string, string>
                    {
                        ["AccountSid"] = bench.Config.Twilio.AccountSid,
                        ["ApiVersion"] = "2010-04-01",
                        ["From"] = bench.Config.Twilio.From,
                        ["MessageSid"] = sid,
                        ["MessageStatus"] = status,
                        ["SmsSid"] = sid,
                        ["SmsStatus"] = status,
                        ["To"] = BenchDatabase.PhoneNumber(i % bench.Scale.Million),
                    };
                    using var request = new HttpRequestMessage(HttpMethod.Post, pathAndQuery) { Content = new FormUrlEncodedContent(fields) };
                    request.Headers.Add("X-Twilio-Signature", TwilioSignature.Compute(token, baseUrl + pathAndQuery, fields));
                    using var response = await http.SendAsync(request, cancellationToken);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref refused);
                    }
                }
            }
        }));
        return (Stopwatch.GetElapsedTime(started), refused);
    }
}
