using System.Net;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio.Drill;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Privacy;

/// <summary>Every request AlertNet makes to the provider (send, the reconcile lookup, status fetch, delete) fails in every
/// way a provider fails (connection refused, no answer, an HTML 500 page, 429, an unreadable 2xx), with error pages
/// that quote the request, numbers included. Afterwards no subscriber's number, in any format, is in any column of any
/// schema (Hangfire's job and state records included), in a pg_dump, in a log line or in the metrics; no job failed;
/// and once the provider answers again everything goes out and is deleted there.</summary>
public sealed class ProviderFailureScanTests : IAsyncLifetime
{
    private static readonly string[] Numbers = ["+12025550181", "+12025550182", DrillMagicNumbers.NoReceipt];

    private static readonly CarrierMode[] Faults =
        [CarrierMode.Hang, CarrierMode.Refuse, CarrierMode.ServerError, CarrierMode.TooManyRequests, CarrierMode.Garbage];

    private static readonly string[] Operations = ["send", "find", "fetch", "delete"];

    private CarrierProxy _proxy = null!;
    private AlertNetTestApp _app = null!;
    private int _metricsPort;

    public async Task InitializeAsync()
    {
        _metricsPort = AlertNetTestApp.FreePort();
        _proxy = new CarrierProxy(targetPort: 0);
        _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
        {
            ["Twilio:ApiBaseUrl"] = $"http://127.0.0.1:{_proxy.Port}/drill/twilio",
            ["Twilio:RequestTimeoutSeconds"] = "2",
            // This test is about what failures leave behind, not about pausing: keep every request going to the proxy.
            ["Twilio:CircuitFailures"] = "1000",
            ["Twilio:ReplyWaitSeconds"] = "3",
            ["Delivery:ClaimLeaseSeconds"] = "6",
            ["Delivery:SweepIntervalSeconds"] = "1",
            ["Delivery:StatusCheckSeconds"] = "1",
            ["Delivery:SentNoReceiptSeconds"] = "600",
            ["Metrics:Port"] = _metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Each failed request is a debug line: the test reads them where the proxy cannot count (refused connections).
            ["Logging:LogLevel:AlertNet"] = "Debug",
        });
        _proxy.TargetPort = new Uri(_app.BaseUrl).Port;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _proxy.DisposeAsync();
    }

    [Fact]
    public async Task Provider_failures_on_every_call_leave_no_number_in_the_database_hangfire_logs_or_metrics()
    {
        foreach (var number in Numbers)
        {
            Assert.NotNull(await _app.TextAsync(number, "JOIN"));
        }

        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var alert = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Agents at the school" } });
        // The no-receipt number's message stays at "sent": its status is asked about every second or two from now on.
        await Eventually.ValueAsync(() => AlertNetTestApp.GetAlertAsync(organizer, alert),
            a => a.GetProperty("counts").GetProperty("delivered").GetInt32() == 2 && a.GetProperty("counts").GetProperty("sent").GetInt32() == 1,
            TimeSpan.FromSeconds(30), () => "the alert to reach the carrier");

        var during = 0L;
        foreach (var fault in Faults)
        {
            _proxy.Mode = fault;
            if (fault == CarrierMode.Hang)
            {
                // An alert whose sends get no answer: each is looked for at the provider before any new attempt, in every
                // mode that follows.
                during = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Second alert" } });
            }

            // A text now: its reply is sent (and fails), its inbound record is deleted (and fails). A send with no answer
            // (Hang) leaves a reply in doubt, so the lookup before any new attempt follows in every later mode.
            _ = Task.Run(() => _app.Services.GetRequiredService<SimulatedHandsets>().TextAsync(Numbers[0], "HELP"));
            if (fault == CarrierMode.Refuse)
            {
                // Nothing listens, so the proxy cannot count: AlertNet's own debug lines say what was refused.
                await Eventually.ValueAsync(() => Task.FromResult("missing " + string.Join(",", Operations.Where(op => !_app.Logs.Lines.Any(l => IsUnreachable(l, op))))),
                    missing => missing == "missing ", TimeSpan.FromSeconds(60), () => "every operation to meet a refused connection");
            }
            else
            {
                await Eventually.ValueAsync(() => Task.FromResult("missing " + string.Join(",", Operations.Where(op => _proxy.Seen(fault, op) == 0))),
                    missing => missing == "missing ", TimeSpan.FromSeconds(60), () => $"every operation to meet {fault}");
            }
        }

        _proxy.Mode = CarrierMode.Up;
        // Back up: the replies in doubt are looked for, then sent; every final message is deleted at the carrier; nothing
        // is left of the inbound texts either (the no-receipt message is not final: it stays until it is).
        await Eventually.ValueAsync(async () =>
            {
                await using var db = await _app.Db.OpenConnectionAsync();
                var replies = await db.ExecuteScalarAsync<long>("SELECT count(*) FROM outbound_replies");
                var held = _app.Carrier.Held.Where(m => m.To != DrillMagicNumbers.NoReceipt).GroupBy(m => m.Direction)
                    .Select(g => $"{g.Key} {g.Count()}");
                return $"replies queued {replies}; held: {string.Join(", ", held)}";
            }, state => state == "replies queued 0; held: ", TimeSpan.FromSeconds(120), () => "the carrier to be emptied");
        Assert.Equal(Faults.Length, _app.RepliesSince(Numbers[0], 1).Count());
        // The alert sent into the outage reached everyone once (nothing was accepted while the carrier failed).
        await Eventually.ValueAsync(() => AlertNetTestApp.GetAlertAsync(organizer, during),
            a => a.GetProperty("counts").GetProperty("delivered").GetInt32() == 2, TimeSpan.FromSeconds(60), () => "the second alert to arrive");
        Assert.All(Numbers, n => Assert.Equal(2, _app.Carrier.AlertCountTo(n)));

        var needles = Numbers.SelectMany(NumberScan.Formats).ToList();
        await using var connection = await _app.Db.OpenConnectionAsync();
        Assert.Empty(await NumberScan.ColumnsHoldingAsync(connection, needles));
        Assert.Empty(await NumberScan.InDumpAsync(_app.ConnectionString, needles));
        Assert.Empty(NumberScan.LinesHolding(_app.Logs.Lines, needles));
        using var metrics = new HttpClient();
        Assert.Empty(NumberScan.LinesHolding((await metrics.GetStringAsync($"http://127.0.0.1:{_metricsPort}/metrics")).Split('\n'), needles));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM hangfire.job WHERE statename = 'Failed'"));
        Assert.Equal(HttpStatusCode.OK, (await _app.Http.GetAsync("/healthz")).StatusCode);
    }

    /// <summary>A debug line saying that operation met a refused connection.</summary>
    private static bool IsUnreachable(string line, string operation) =>
        line.Contains("Unreachable", StringComparison.Ordinal) && operation switch
        {
            "send" => line.Contains("send failed", StringComparison.Ordinal),
            "find" => line.Contains("find failed", StringComparison.Ordinal),
            "fetch" => line.Contains("status check failed", StringComparison.Ordinal),
            _ => line.Contains("Deleting", StringComparison.Ordinal),
        };

}
