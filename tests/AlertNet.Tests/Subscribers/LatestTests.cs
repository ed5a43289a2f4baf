using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Subscribers;

/// <summary>LATEST (ÚLTIMO, …): someone who missed an alert, or was forwarded a text and wants to know whether it is real,
/// asks the number alerts come from.</summary>
public sealed class LatestTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;
    private HttpClient _organizer = null!;

    public async Task InitializeAsync()
    {
        _app = await AlertNetTestApp.StartAsync();
        _organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Latest_answers_with_the_alerts_in_force_sent_to_the_number_and_a_retraction_replaces_its_alert()
    {
        const string ana = "+12025557401", luis = "+12025557402", stranger = "+12025557403";
        await _app.TextAsync(ana, "JOIN");
        await _app.TextAsync(luis, "ÚNETE");
        Assert.Contains("no active alerts", await _app.TextAsync(ana, "LATEST"), StringComparison.Ordinal);

        var first = await AlertNetTestApp.TriggerAlertAsync(_organizer,
            new { type = "urgent", bodies = new { en = "Agents at the depot", es = "Agentes en el depósito" } });
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, first, expectedRecipients: 2);
        var second = await AlertNetTestApp.TriggerAlertAsync(_organizer,
            new { type = "urgent", bodies = new { en = "Checkpoint on Main St", es = "Retén en la calle Main" } });
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, second, expectedRecipients: 2);
        var rights = await AlertNetTestApp.TriggerAlertAsync(_organizer, new { type = "know_your_rights", bodies = new { en = "You may stay silent" } });
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, rights, expectedRecipients: 2);

        var english = await _app.TextAsync(ana, "latest");
        Assert.Matches(@"^AlertNet: the latest alerts sent to you, newest first: \[\d+ min\] Checkpoint on Main St \[\d+ min\] Agents at the depot$", english);
        var spanish = await _app.TextAsync(luis, "Último");
        Assert.Matches(@"\[\d+ min\] Retén en la calle Main \[\d+ min\] Agentes en el depósito$", spanish);

        var retraction = await AlertNetTestApp.FollowUpAsync(_organizer, first, "retraction",
            new { en = "RETRACTED: no agents at the depot", es = "RETRACTADA: no hay agentes en el depósito" });
        await AlertNetTestApp.WaitUntilSettledAsync(_organizer, retraction, expectedRecipients: 2);
        var afterRetraction = await _app.TextAsync(ana, "LATEST");
        Assert.Contains("RETRACTED: no agents at the depot", afterRetraction, StringComparison.Ordinal);
        Assert.DoesNotContain("Agents at the depot", afterRetraction, StringComparison.Ordinal);

        // Nothing about what was sent, or to whom, for a number that is not subscribed; nothing at all after STOP.
        Assert.Equal("AlertNet: this number is not subscribed. Reply JOIN to get alerts.", await _app.TextAsync(stranger, "LATEST"));
        await _app.TextAsync(luis, "ALTO");
        Assert.Null(await _app.TextAsync(luis, "ÚLTIMO"));
        // "Latest" at the start of a sentence is ordinary text, not the keyword.
        Assert.DoesNotContain("newest first", await _app.TextAsync(ana, "latest news: agents on 5th") ?? "", StringComparison.Ordinal);
    }
}
