using System.Net;
using System.Net.Http.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio.Drill;
using AlertNet.Privacy;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Subscribers;

/// <summary>Every way AlertNet learns that a number must get nothing more (a STOP texted to AlertNet, Twilio's 21610 at
/// the API or in a status callback, the emergency purge) ends that person's deliveries still waiting in every alert,
/// not only at the next claim; and an old 21610 callback that moves nothing opts nobody out.</summary>
public sealed class OptOutPathsTests : IAsyncLifetime
{
    private const string Neighbour = "+12025550177";
    private AlertNetTestApp _app = null!;
    private HttpClient _organizer = null!;

    public async Task InitializeAsync()
    {
        _app = await AlertNetTestApp.StartAsync();
        _organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public static TheoryData<string, string> Paths => new()
    {
        { "stop", "+12025550176" },
        { "21610-api", DrillMagicNumbers.OptedOut },
        { "21610-callback", DrillMagicNumbers.OptedOutAtCarrier },
        { "purge", "+12025550178" },
    };

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Each_opt_out_path_skips_the_persons_pending_deliveries_in_every_alert(string path, string person)
    {
        if (path == "21610-api")
        {
            // Every message to this number is refused with 21610, the JOIN confirmation too (which opts it out at once):
            // subscribe it without one, so that an alert is what meets the 21610.
            await SubscribeWithoutReplyAsync(person);
        }
        else
        {
            await _app.TextAsync(person, "JOIN");
        }

        await _app.TextAsync(Neighbour, "JOIN");
        var held = await HoldTwoBulkAlertsAsync();

        switch (path)
        {
            case "stop":
                Assert.NotNull(await _app.TextAsync(person, "STOP"));
                break;
            case "21610-api" or "21610-callback":
                // An urgent alert ignores quiet hours and reaches Twilio, which answers (or later reports) 21610.
                var urgent = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "Raid" } });
                await AlertNetTestApp.WaitUntilSettledAsync(_organizer, urgent, expectedRecipients: 2);
                break;
            case "purge":
                var response = await (await _app.ClientWithRoleAsync(Roles.Admin)).PostAsJsonAsync("/api/admin/purge-subscribers",
                    new { confirm = PurgeSubscribers.ConfirmationPhrase });
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                break;
        }

        await using var db = await _app.Db.OpenConnectionAsync();
        var states = (await db.QueryAsync<(long AlertId, string State, bool IsPerson)>(
            """
            SELECT d.alert_id, d.state, d.subscriber_id IS NULL OR s.phone_index = @index
            FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id
            WHERE d.alert_id = ANY(@held)
            """,
            new { held, index = _app.Protector.BlindIndex(person) })).ToList();
        Assert.Equal(4, states.Count);
        Assert.All(states.Where(s => s.IsPerson), s => Assert.Equal("skipped", s.State));
        // The purge removes everyone: then every delivery counts as the person's.
        Assert.Equal(path == "purge" ? 4 : 2, states.Count(s => s.IsPerson));
        if (path != "purge")
        {
            // Only that person: the neighbour's deliveries still wait for the end of quiet hours.
            Assert.All(states.Where(s => !s.IsPerson), s => Assert.Equal("pending", s.State));
            Assert.True(await db.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM opt_outs WHERE phone_index = @index)",
                new { index = _app.Protector.BlindIndex(person) }));
        }
    }

    [Fact]
    public async Task A_21610_callback_for_a_message_already_delivered_opts_nobody_out()
    {
        await _app.TextAsync(Neighbour, "JOIN");
        var alert = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "urgent", bodies = new { en = "Raid" } });
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, alert, expectedRecipients: 1);
        await using var db = await _app.Db.OpenConnectionAsync();
        var id = await db.QuerySingleAsync<long>("SELECT id FROM deliveries WHERE alert_id = @alert", new { alert });
        var sid = Assert.Single(_app.Carrier.AlertMessages()).Sid;

        var response = await _app.PostSignedAsync($"/webhooks/twilio/status?deliveryId={id}", new Dictionary<string, string>
        {
            ["MessageSid"] = sid,
            ["MessageStatus"] = "failed",
            ["ErrorCode"] = "21610",
            ["To"] = Neighbour,
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("delivered", await db.ExecuteScalarAsync<string>("SELECT state FROM deliveries WHERE id = @id", new { id }));
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM opt_outs"));
        Assert.Equal("active", await db.ExecuteScalarAsync<string>("SELECT status FROM subscribers"));
    }

    private async Task SubscribeWithoutReplyAsync(string number)
    {
        await using var db = await _app.Db.OpenConnectionAsync();
        var id = await AlertNet.Privacy.RowIds.NextAsync(db, null, "subscribers", CancellationToken.None);
        await db.ExecuteAsync(
            """
            INSERT INTO subscribers (id, channel, phone_index, phone_cipher) OVERRIDING SYSTEM VALUE VALUES (@id, 'sms', @index, @cipher);
            INSERT INTO memberships (group_id, subscriber_id) SELECT g.id, @id FROM groups g WHERE g.is_default;
            """,
            new { id, index = _app.Protector.BlindIndex(number), cipher = _app.Protector.Encrypt(number, AlertNet.Privacy.CipherPlaces.SubscriberPhone(id)) });
    }

    /// <summary>Two know-your-rights alerts to the default group during its quiet hours: their deliveries are fanned out
    /// and wait, pending, for the window to end.</summary>
    private async Task<long[]> HoldTwoBulkAlertsAsync()
    {
        var now = TimeOnly.FromDateTime(DateTime.UtcNow);
        var quiet = await _organizer.PutAsJsonAsync("/api/groups/default/quiet-hours", new
        {
            start = now.AddHours(-1).ToString("HH:mm"),
            end = now.AddHours(1).ToString("HH:mm"),
            timeZone = "Etc/UTC",
        });
        Assert.Equal(HttpStatusCode.OK, quiet.StatusCode);
        var held = new[]
        {
            await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "know_your_rights", bodies = new { en = "Rights 1" } }),
            await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "know_your_rights", bodies = new { en = "Rights 2" } }),
        };
        foreach (var id in held)
        {
            await Eventually.ValueAsync(() => AlertNetTestApp.GetAlertAsync(_organizer, id),
                a => a.GetProperty("recipients").ValueKind == System.Text.Json.JsonValueKind.Number && a.GetProperty("recipients").GetInt32() == 2,
                TimeSpan.FromSeconds(30), () => $"alert {id} to be fanned out");
        }

        return held;
    }
}
