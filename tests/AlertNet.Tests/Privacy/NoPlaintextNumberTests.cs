using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Privacy;

/// <summary>After a realistic stretch of use (joins on SMS and WhatsApp, alerts, a STOP, a hotline report,
/// HELP with a number in it), no subscriber's number, in any common format, and no subscriber's text is in
/// the database (column by column, and in a whole pg_dump, bytea decoded) nor in any log line.</summary>
public sealed class NoPlaintextNumberTests : IAsyncLifetime
{
    private const string Number = "+12025550147";

    /// <summary>Every test number of the scenario; each is searched for in all its formats.</summary>
    private static readonly string[] Numbers = [Number, "+12025550148", "+12025550149", "+13105550150"];

    private static readonly string[] SubscriberTexts = ["my number is", "laundromat on 5th", "ayuda por favor"];

    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task No_table_column_dump_or_log_line_holds_a_subscriber_number_in_any_common_format_or_their_text()
    {
        await _app.TextAsync("whatsapp:" + Number, "JOIN");
        await _app.TextAsync(Number, "JOIN");
        await _app.TextAsync(Number, "HELP my number is 202-555-0147");
        await _app.TextAsync(Numbers[1], "ÚNETE");
        await _app.TextAsync(Numbers[1], "ayuda por favor");
        await _app.TextAsync("whatsapp:" + Numbers[2], "JOIN");
        await _app.TextAsync(Numbers[3], "REPORT agents near the laundromat on 5th, call me at (310) 555-0150");
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Agents at the school", es = "Agentes en la escuela" } });
        // One person subscribed on two channels: one message.
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 3);
        await _app.TextAsync(Number, "STOP");
        await _app.TextAsync(Numbers[1], "ALTO");
        var second = await AlertNetTestApp.FollowUpAsync(organizer, id, "all_clear", new { en = "All clear" });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, second, expectedRecipients: 1);
        var coordinator = await _app.ClientWithRoleAsync(Roles.Coordinator);
        Assert.Contains("laundromat", await coordinator.GetStringAsync("/api/hotline"), StringComparison.Ordinal);

        // The carrier got them: the numbers exist, just not in AlertNet's storage or logs.
        Assert.Equal(1, _app.Carrier.AlertCountTo(Number) + _app.Carrier.AlertCountTo("whatsapp:" + Number));
        Assert.Equal(2, _app.Carrier.AlertCountTo("whatsapp:" + Numbers[2]));

        var needles = Numbers.SelectMany(NumberScan.Formats).Concat(SubscriberTexts).ToList();
        await using var connection = await _app.Db.OpenConnectionAsync();
        Assert.Empty(await NumberScan.ColumnsHoldingAsync(connection, needles));
        // The whole database as a seizure would find it.
        Assert.Empty(await NumberScan.InDumpAsync(_app.ConnectionString, needles));
        Assert.Empty(NumberScan.LinesHolding(_app.Logs.Lines, needles));
    }
}
