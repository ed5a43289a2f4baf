using AlertNet.Tests.Support;
using Dapper;

namespace AlertNet.Tests.Subscribers;

/// <summary>One AlertNet host shared by a test class (starting one takes seconds); each test starts from
/// no subscribers and only the default group, as if the database were new.</summary>
public sealed class SubscriberAppFixture : IAsyncLifetime
{
    public const string ProgramName = "Eastside Alerts";
    public const string OrganizationName = "Eastside Defense Committee";
    public const string ContactInfo = "eastside.example/help";

    public AlertNetTestApp App { get; private set; } = null!;

    public async Task InitializeAsync() => App = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
    {
        ["AlertNet:ProgramName"] = ProgramName,
        ["AlertNet:OrganizationName"] = OrganizationName,
        ["AlertNet:ContactInfo"] = ContactInfo,
    });

    public async Task DisposeAsync() => await App.DisposeAsync();

    /// <summary>An alert a previous test sent may still be delivering in the background; TRUNCATE then takes its
    /// locks in another order and PostgreSQL may pick the reset as a deadlock victim: try again.</summary>
    public async Task ResetAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await App.Db.OpenConnectionAsync();
                await connection.ExecuteAsync(
                    """
                    TRUNCATE subscribers, opt_outs, memberships, inbound_messages, unknown_text_hints, deliveries, alerts, hotline_reports,
                        organizer_phones, audit_log, outbound_replies, carrier_deletions CASCADE;
                    DELETE FROM groups WHERE NOT is_default;
                    """);
                return;
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.DeadlockDetected && attempt < 5)
            {
            }
        }
    }

    /// <summary>Posts a signed inbound webhook; returns the reply text the sender's phone received, or null for silence.</summary>
    public Task<string?> PostAsync(Dictionary<string, string> fields) => App.PostInboundAsync(fields);

    /// <summary>A subscriber texting on the channel the address says (whatsapp:+1… or +1…).</summary>
    public Task<string?> TextAsync(string from, string body) => PostAsync(TwilioInbound.For(from, body));
}
