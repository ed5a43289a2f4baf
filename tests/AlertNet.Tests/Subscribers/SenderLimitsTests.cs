using System.Globalization;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio.Drill;
using AlertNet.Privacy;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Subscribers;

/// <summary>What one number's texts can make AlertNet do: a flood of reports or keyword texts gets a few answers and then
/// silence (and a metric), a number abroad cannot subscribe itself to every future alert (SMS pumping), and STOP works
/// from anywhere, whatever the limits.</summary>
public sealed class SenderLimitsTests : IAsyncLifetime
{
    private const string Abroad = "+447700900123"; // a UK mobile number of Ofcom's drama range
    private readonly int _metricsPort = AlertNetTestApp.FreePort();
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
    {
        ["Metrics:Port"] = _metricsPort.ToString(CultureInfo.InvariantCulture),
        // The defaults (the test host raises them for other tests).
        ["Subscribers:RepliesPerHour"] = "10",
        ["Subscribers:ReportsPerHour"] = "5",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_hundred_reports_from_one_number_file_the_hourly_limit_and_one_more_with_five_replies()
    {
        const string flooder = "+12025550301";
        var handsets = _app.Services.GetRequiredService<SimulatedHandsets>();
        await Parallel.ForEachAsync(Enumerable.Range(1, 100), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            Assert.Equal(200, (await handsets.TextAsync(flooder, $"REPORT van number {i} on 5th", cancellationToken: ct)).WebhookStatus));

        await using var db = await _app.Db.OpenConnectionAsync();
        // The limit (5) and one more are in the inbox; the other 94 texts are not kept.
        Assert.Equal(6, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM hotline_reports"));
        Assert.Equal(6, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM inbound_messages WHERE body_cipher IS NOT NULL"));
        Assert.Equal(5, await RepliesToAsync(flooder));
        Assert.Equal(95, await LimitedAsync("reports"));
    }

    [Fact]
    public async Task Fifty_rights_texts_get_replies_up_to_the_hourly_limit_and_stop_still_opts_out()
    {
        const string number = "+12025550302";
        await _app.TextAsync(number, "JOIN");
        var handsets = _app.Services.GetRequiredService<SimulatedHandsets>();
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(200, (await handsets.TextAsync(number, "RIGHTS")).WebhookStatus);
        }

        // Ten replies in the hour (the JOIN confirmation and nine RIGHTS answers of two segments each), then silence.
        Assert.Equal(10, await RepliesToAsync(number));
        Assert.Equal(41, await LimitedAsync("replies"));

        // Beyond the limit STOP still works: the confirmation is not sent, but no alert reaches the number any more.
        Assert.Equal(200, (await handsets.TextAsync(number, "STOP")).WebhookStatus);
        await _app.TextAsync("+12025550303", "JOIN");
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Checkpoint at 5th" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 1);
        Assert.Equal(0, _app.Carrier.AlertCountTo(number));
        Assert.Equal(1, _app.Carrier.AlertCountTo("+12025550303"));
    }

    [Fact]
    public async Task A_number_of_a_country_not_allowed_cannot_join_by_sms_hears_nothing_and_can_still_stop()
    {
        // The default allows the country of AlertNet:DefaultRegion (US) only.
        Assert.Null(await _app.TextAsync(Abroad, "JOIN"));
        Assert.Null(await _app.TextAsync(Abroad, "START"));
        Assert.Null(await _app.TextAsync(Abroad, "HELP"));
        await using var db = await _app.Db.OpenConnectionAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM subscribers"));
        Assert.Empty(_app.Carrier.ReceivedBy(Abroad));
        Assert.True(await LimitedAsync("country") >= 3);

        // STOP from anywhere opts out (silently, as no reply may go there).
        Assert.Null(await _app.TextAsync(Abroad, "STOP"));
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM opt_outs WHERE phone_index = @index",
            new { index = _app.Protector.BlindIndex(Abroad) }));

        // WhatsApp is allowed from any country by default: the same person joins there and is answered.
        Assert.NotNull(await _app.TextAsync("whatsapp:+447700900124", "JOIN"));
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM subscribers WHERE channel = 'whatsapp'"));
    }

    [Fact]
    public async Task Allowed_countries_are_a_setting_and_who_joined_before_a_change_keeps_getting_alerts()
    {
        var database = await TestCluster.CreateMigratedDatabaseAsync();
        var keys = new Dictionary<string, string?>
        {
            ["AlertNet:EncryptionKey"] = KeyFile.NewKey(),
            ["AlertNet:BlindIndexKey"] = KeyFile.NewKey(),
        };
        await using (var withUk = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>(keys)
                     {
                         ["Subscribers:AllowedCountries"] = "US, GB",
                     }, database: database))
        {
            Assert.NotNull(await withUk.TextAsync(Abroad, "JOIN"));
        }

        try
        {
            // Back to the default (US only): the UK subscriber keeps the alerts until they leave.
            await using var usOnly = await AlertNetTestApp.StartAsync(overrides: keys, database: database);
            Assert.Null(await usOnly.TextAsync("+447700900125", "JOIN"));
            var organizer = await usOnly.ClientWithRoleAsync(Roles.Organizer);
            var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Checkpoint at 5th" } });
            await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 1);
            Assert.Equal(1, usOnly.Carrier.AlertCountTo(Abroad));
        }
        finally
        {
            await TestCluster.DropDatabaseAsync(database);
        }
    }

    /// <summary>Replies the number got, once AlertNet has nothing more to send.</summary>
    private async Task<int> RepliesToAsync(string number)
    {
        await using var db = await _app.Db.OpenConnectionAsync();
        await Eventually.TrueAsync(async () => await db.ExecuteScalarAsync<long>("SELECT count(*) FROM outbound_replies") == 0,
            TimeSpan.FromSeconds(30), "every reply to be sent");
        return _app.Carrier.ReceivedBy(number).Count(CarrierViews.IsReply);
    }

    private async Task<double> LimitedAsync(string reason)
    {
        using var prometheus = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_metricsPort}") };
        var text = await prometheus.GetStringAsync("/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("alertnet_inbound_limited_total{", StringComparison.Ordinal)
                                                        && l.Contains($"reason=\"{reason}\"", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}
