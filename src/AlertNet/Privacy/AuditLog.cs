using System.Text.Json;
using Dapper;
using Npgsql;

namespace AlertNet.Privacy;

/// <summary>Who did what, when: every organizer and admin action. Never holds a phone number.</summary>
public sealed class AuditLog(NpgsqlDataSource db)
{
    public async Task RecordAsync(string actor, string action, string? subject, object? details, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO audit_log (actor, action, subject, details) VALUES (@actor, @action, @subject, @details::jsonb)",
            new { actor, action, subject, details = details is null ? null : JsonSerializer.Serialize(details) },
            cancellationToken: cancellationToken));
    }
}
