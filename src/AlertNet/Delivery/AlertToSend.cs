using System.Text.Json;
using Dapper;
using Npgsql;

namespace AlertNet.Delivery;

/// <summary>What a sender needs of an alert, with each language's SMS text prepared once: smart-encoded
/// and counted in segments (what Twilio bills and the throttle meters).</summary>
public sealed record AlertToSend(long Id, string Type, string State, Dictionary<string, string> Bodies, DateTime? ExpiresAt,
    string DefaultLanguage, DateTime TriggeredAt)
{
    private readonly Dictionary<string, SegmentCount> _sms = Bodies.ToDictionary(b => b.Key, b => SmsSegments.Analyze(b.Value));

    public string Lane => Alerts.AlertType.Lane(Type);

    public bool IsUrgent => Lane == Infrastructure.Jobs.Lanes.Urgent;

    /// <summary>The language of the text a subscriber gets: theirs, else the organization's default, else any.</summary>
    public string LanguageFor(string language) => Alerts.AlertBodies.LanguageFor(Bodies, language, DefaultLanguage);

    public string SmsBodyFor(string language) => _sms[LanguageFor(language)].SentText;

    /// <summary>WhatsApp carries any character at no extra cost: the text as written.</summary>
    public string WhatsAppBodyFor(string language) => Bodies[LanguageFor(language)];

    public int SegmentsFor(string language) => _sms[LanguageFor(language)].Segments;

    public static async Task<AlertToSend?> LoadAsync(NpgsqlDataSource db, long alertId, string defaultLanguage, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(long Id, string Type, string State, string Bodies, DateTime? ExpiresAt, DateTime TriggeredAt)?>(new CommandDefinition(
            "SELECT id, type, state, bodies::text, expires_at, coalesce(send_at, created_at) FROM alerts WHERE id = @alertId", new { alertId }, cancellationToken: cancellationToken));
        return row is { } r
            ? new AlertToSend(r.Id, r.Type, r.State, JsonSerializer.Deserialize<Dictionary<string, string>>(r.Bodies)!, r.ExpiresAt, defaultLanguage, r.TriggeredAt)
            : null;
    }
}
