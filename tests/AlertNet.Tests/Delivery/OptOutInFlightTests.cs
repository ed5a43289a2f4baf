using AlertNet.Infrastructure.Auth;
using AlertNet.Tests.Support;
using Dapper;
using AlertNet.Privacy;

namespace AlertNet.Tests.Delivery;

/// <summary>STOP from someone whose delivery a worker has already claimed and is about to send: the batch's
/// watcher, not the pending-row update, is what must keep the message from going out.</summary>
public sealed class OptOutInFlightTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
    {
        // One batch claims everyone at once, then sends slowly.
        ["Delivery:SegmentsPerSecond"] = "40",
        ["Delivery:BatchSize"] = "500",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Stop_from_a_recipient_already_claimed_for_sending_means_no_message_to_them()
    {
        var numbers = AlertNetTestApp.Numbers(200);
        await _app.JoinAllAsync(numbers);
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Test" } });
        await Eventually.TrueAsync(() => _app.Carrier.AlertMessages().Count >= 20, TimeSpan.FromSeconds(30), "the alert to start going out");

        string last;
        string stateAtStop;
        await using (var connection = await _app.Db.OpenConnectionAsync())
        {
            var row = await connection.QuerySingleAsync<(long Id, byte[] Cipher, string State)>(
                "SELECT s.id, s.phone_cipher, d.state FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id ORDER BY d.id DESC LIMIT 1");
            last = _app.Protector.Decrypt(row.Cipher, CipherPlaces.SubscriberPhone(row.Id));
            stateAtStop = row.State;
        }

        await _app.TextAsync(last, "STOP");
        var alert = await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, expectedRecipients: 200);

        Assert.Equal("sending", stateAtStop);
        Assert.Equal(0, _app.Carrier.AlertCountTo(last));
        Assert.Equal(1, alert.GetProperty("counts").GetProperty("skipped").GetInt32());
        Assert.Equal(199, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
    }
}
