using System.Net.Http.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Privacy;

/// <summary>The emergency purge: everything about subscribers gone at once, opt-outs kept, alerts in flight
/// stopped, and nothing happens without the exact confirmation.</summary>
public sealed class PurgeSubscribersTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
    {
        // Slow enough that the purge lands in the middle of an alert.
        ["Delivery:SegmentsPerSecond"] = "20",
        ["Delivery:BatchSize"] = "20",
        ["Privacy:BatchSize"] = "7",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData("yes")]
    [InlineData("purge all subscribers")]
    [InlineData("")]
    public async Task Without_the_exact_phrase_typed_nothing_is_purged(string typed)
    {
        await _app.TextAsync("+12025553301", "JOIN");

        var (exitCode, output, errors) = await _app.RunCommandWithInputAsync(typed, PurgeSubscribers.Verb);

        Assert.Equal(1, exitCode);
        Assert.Contains(PurgeSubscribers.ConfirmationPhrase, output, StringComparison.Ordinal);
        Assert.Contains("nothing was purged", errors, StringComparison.Ordinal);
        await using var db = await _app.Db.OpenConnectionAsync();
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM subscribers"));
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action LIKE 'subscribers.purge%'"));
    }

    [Fact]
    public async Task A_typed_confirmation_wipes_subscriber_data_keeps_opt_outs_counts_and_the_audit_row()
    {
        var numbers = AlertNetTestApp.Numbers(10, first: 3300);
        await _app.JoinAllAsync(numbers);
        await _app.TextAsync("whatsapp:" + numbers[0], "JOIN");
        await _app.TextAsync(numbers[1], "REPORT van outside the school");
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var alert = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Raid on 5th" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, alert, expectedRecipients: 10);
        var counts = (await AlertNetTestApp.GetAlertAsync(organizer, alert)).GetProperty("counts").GetRawText();
        await _app.TextAsync(numbers[2], "STOP");

        var (exitCode, output, errors) = await _app.RunCommandWithInputAsync(PurgeSubscribers.ConfirmationPhrase, PurgeSubscribers.Verb);

        Assert.True(exitCode == 0, output + errors);
        Assert.Contains("Purged 11 subscribers", output, StringComparison.Ordinal);
        await using var db = await _app.Db.OpenConnectionAsync();
        foreach (var table in new[] { "subscribers", "memberships", "inbound_messages", "hotline_reports", "unknown_text_hints" })
        {
            Assert.True(await db.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}") == 0, $"{table} is not empty");
        }

        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM deliveries WHERE subscriber_id IS NOT NULL OR twilio_sid IS NOT NULL"));
        Assert.Equal(counts, (await AlertNetTestApp.GetAlertAsync(organizer, alert)).GetProperty("counts").GetRawText());
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM opt_outs"));
        Assert.Equal(1, await db.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM audit_log WHERE action = 'subscribers.purge' AND actor = 'command-line' AND (details ->> 'Subscribers')::int = 11"));
        // The key of deliveries to subscribers is whole again.
        Assert.True(await db.ExecuteScalarAsync<bool>(
            "SELECT convalidated FROM pg_constraint WHERE conname = 'deliveries_subscriber_id_fkey'"));

        // The number that said STOP is still opted out: silence. A purged number that never did gets the hint.
        Assert.Null(await _app.TextAsync(numbers[2], "hello?"));
        Assert.NotNull(await _app.TextAsync(numbers[3], "hello?"));
        // And a new alert reaches no one.
        var after = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "After the purge" } });
        await Eventually.ValueAsync(() => AlertNetTestApp.GetAlertAsync(organizer, after), a => a.GetProperty("state").GetString() == "done",
            TimeSpan.FromSeconds(30));
        Assert.Equal(10, _app.Carrier.AlertMessages().Count);
    }

    [Fact]
    public async Task Admins_can_purge_through_the_api_with_the_same_confirmation_and_no_one_else_can()
    {
        await _app.TextAsync("+12025553302", "JOIN");
        var admin = await _app.ClientWithRoleAsync(Roles.Admin);
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        await using var db = await _app.Db.OpenConnectionAsync();

        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await organizer.PostAsJsonAsync("/api/admin/purge-subscribers",
            new { confirm = PurgeSubscribers.ConfirmationPhrase })).StatusCode);
        var unconfirmed = await admin.PostAsJsonAsync("/api/admin/purge-subscribers", new { confirm = "yes" });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, unconfirmed.StatusCode);
        Assert.Contains("nothing was purged", await unconfirmed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM subscribers"));

        var purged = await admin.PostAsJsonAsync("/api/admin/purge-subscribers", new { confirm = PurgeSubscribers.ConfirmationPhrase });

        Assert.Equal(System.Net.HttpStatusCode.OK, purged.StatusCode);
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM subscribers"));
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'subscribers.purge' AND actor = 'test-admin'"));
    }

    [Fact]
    public async Task An_alert_in_flight_stops_sending_to_purged_subscribers()
    {
        // 400 at 20 a second: 20 s of sending, so the purge (a process of its own, slow to start on a busy machine) lands
        // mid-alert.
        var numbers = AlertNetTestApp.Numbers(400, first: 3400);
        await _app.JoinAllAsync(numbers);
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var alert = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Raid on 5th" } });
        await Eventually.TrueAsync(() => _app.Carrier.AlertMessages().Count >= 20, TimeSpan.FromSeconds(60), "the alert to be going out");

        var (exitCode, output, errors) = await _app.RunCommandAsync(PurgeSubscribers.Verb, "--confirm", PurgeSubscribers.ConfirmationPhrase);

        Assert.True(exitCode == 0, output + errors);
        var settled = await AlertNetTestApp.WaitUntilSettledAsync(organizer, alert, numbers.Length);
        // At 20 a second the whole alert takes 20 s; the purge came after about one. Whatever was in flight
        // finished, the rest was skipped.
        var sent = _app.Carrier.AlertMessages().Count;
        Assert.True(sent < numbers.Length, $"all {sent} messages went out despite the purge");
        Assert.Equal(numbers.Length - sent, settled.GetProperty("counts").GetProperty("skipped").GetInt32());
        // Not even the messages that were in flight keep a SID or a link to anyone.
        await using var db = await _app.Db.OpenConnectionAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM deliveries WHERE subscriber_id IS NOT NULL OR twilio_sid IS NOT NULL"));
    }
}
