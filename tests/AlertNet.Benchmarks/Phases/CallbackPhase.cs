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
        // 100k deliveries as they are right after sending: accepted, with a SID, written by the benchmark itself (set-up,
        // not measured), under an alert that is already done, so that no sender or sweeper touches them; callbacks do
        // not look at the alert.
        long alertId;
        List<(long Id, string Sid)> deliveries;
        await using (var connection = await bench.Db.OpenConnectionAsync(cancellationToken))
        {
            alertId = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                INSERT INTO alerts (type, bodies, target_groups, created_by, state, recipients, fanned_out_at, finished_at)
                VALUES ('know_your_rights', '{"en": "Callback benchmark"}', ARRAY[@groupId], 'benchmark', 'done', 0, now(), now())
                RETURNING id
                """,
                new { groupId = bench.DefaultGroupId }, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO deliveries (alert_id, subscriber_id, channel, language, state, attempts, accepted_at)
                SELECT @alertId, s.id, s.channel, s.language, 'accepted', 1, now()
                FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id
                WHERE m.group_id = @groupId;
                UPDATE deliveries SET twilio_sid = 'SM' || md5(id::text) WHERE alert_id = @alertId;
                """,
                new { alertId, groupId = bench.DefaultGroupId }, cancellationToken: cancellationToken, commandTimeout: 600));
            deliveries = (await connection.QueryAsync<(long, string)>(new CommandDefinition(
                "SELECT id, twilio_sid FROM deliveries WHERE alert_id = @alertId ORDER BY id", new { alertId },
                cancellationToken: cancellationToken))).ToList();
        }

        try
        {

            await bench.Database.VacuumAnalyzeAsync(["deliveries"], cancellationToken);
            var cpu = CpuMeter.Take();
            await using var waits = WaitSampler.Start(bench.Db);
            var (elapsed, refused) = await PostCallbacksAsync(bench, deliveries, cancellationToken);
            var usage = CpuMeter.Measure(cpu, CpuMeter.Take());
            var profile = await waits.StopAsync();
            bench.Report.Note(Phase, $"while posting: {usage.Text}");
            bench.Report.Note(Phase, $"while posting: {profile}");
            var callbacks = 2L * deliveries.Count;
            var rate = callbacks / elapsed.TotalSeconds;
            var counts = await AlertProgress.CountsAsync(bench.Db, alertId, cancellationToken);
            bench.Report.Note(Phase, $"{Format.Count(callbacks)} callbacks ('sent' then 'delivered' for {Format.Count(deliveries.Count)} deliveries) " +
                $"from {BenchScale.CallbackClients} clients in {Format.Seconds(elapsed)}; {Format.Count(refused)} not answered 200; " +
                $"delivered afterwards: {Format.Count(counts.GetValueOrDefault("delivered"))}");
            bench.Report.Add(new Figure(Phase, "status callbacks ingested", Format.Rate(rate, "callbacks/s"), "≥ 5,000/s", rate >= 5000,
                Diagnosis.Limit(profile, usage.OthersPercent,
                    "Each callback is a request through Kestrel, form parsing and the SDK's RequestValidator (HMAC-SHA1) and a " +
                    "forward-only row update; the 64 clients signing and posting share the two cores with AlertNet and " +
                    "PostgreSQL. Fewer commits (callbacks applied in groups) or SET LOCAL synchronous_commit = off for this " +
                    "idempotent update would move it.")));
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
