using System.Net.Http.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Privacy;

/// <summary>The discretion issue's "done when", in drill mode: a day's traffic for 1,000 subscribers (their JOIN texts, a
/// few reports, language changes, rights requests, STOPs, every reply, a test send and one alert to everyone) leaves no
/// message record at the carrier once it has settled: what a subpoena to the provider, or a stolen provider credential,
/// would find is nothing.</summary>
public sealed class NothingLeftAtProviderTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
    {
        // Receipts come at once in drill mode; the deletion pacing is the live default (Twilio's API allows far more).
        ["Delivery:SweepIntervalSeconds"] = "2",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_thousand_subscribers_texts_replies_and_an_alert_leave_no_record_at_the_carrier_within_a_minute()
    {
        var numbers = AlertNetTestApp.Numbers(1000, first: 4000);
        await _app.JoinAllAsync(numbers);
        var reporters = numbers.Take(10).ToArray();
        await Parallel.ForEachAsync(reporters, async (number, _) =>
        {
            Assert.NotNull(await _app.TextAsync(number, "REPORT agents at the school on 5th"));
        });
        foreach (var number in numbers.Skip(10).Take(5))
        {
            Assert.NotNull(await _app.TextAsync(number, "Español"));
            Assert.NotNull(await _app.TextAsync(number, "RIGHTS"));
        }

        var leaving = numbers[^3..];
        foreach (var number in leaving)
        {
            Assert.NotNull(await _app.TextAsync(number, "STOP"));
        }

        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Checkpoint at 5th and Main", es = "Control en la 5 y Main" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: numbers.Length - leaving.Length, TimeSpan.FromSeconds(120));
        var settled = DateTimeOffset.UtcNow;

        // Everything happened at the carrier: 1,000 JOINs and their replies, the other texts and replies, the alert.
        var seen = _app.Carrier.Messages.Count;
        Assert.True(seen >= 2 * numbers.Length, $"only {seen} outbound messages seen at the carrier");

        // Within a minute of settling the carrier holds nothing: no inbound text, no reply, no alert message.
        var held = await Eventually.ValueAsync(() => Task.FromResult(_app.Carrier.Held.Count), count => count == 0,
            TimeSpan.FromSeconds(60), () => "the carrier to hold nothing; still held: " + string.Join(", ",
                _app.Carrier.Held.GroupBy(m => (m.Direction, Kind: CarrierViews.IsReply(m) ? "reply" : CarrierViews.IsAlert(m) ? "alert" : ""))
                    .Select(g => $"{g.Count()} {g.Key.Direction} {g.Key.Kind}")));
        Assert.Equal(0, held);
        Assert.True(DateTimeOffset.UtcNow - settled < TimeSpan.FromSeconds(61));

        // AlertNet agrees: nothing it knows of is still on its way. A SID may still sit in its deletion queue for a moment
        // when the provider's final callback overtook the answer to the send (the message is gone, the second DELETE will
        // get a 404): none of those is a message the carrier still holds.
        await using var db = await _app.Db.OpenConnectionAsync();
        var queued = (await db.QueryAsync<string>("SELECT sid FROM carrier_deletions")).ToList();
        Assert.All(queued, sid => Assert.Null(_app.Carrier.FindHeld(sid)));
        var overview = await organizer.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/overview");
        Assert.Equal(0, overview.GetProperty("heldAtProvider").GetProperty("inFlight").GetInt64());
    }
}
