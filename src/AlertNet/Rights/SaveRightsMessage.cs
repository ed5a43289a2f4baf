using System.Text.Json;
using AlertNet.Privacy;
using Dapper;
using Npgsql;

namespace AlertNet.Rights;

/// <summary>Creates (Id null) or replaces a library message; audited. Null when the id is unknown or the title is
/// another message's.</summary>
public sealed record SaveRightsMessage(long? Id, string Title, IReadOnlyDictionary<string, string> Bodies, string Actor)
    : Mediator.ICommand<long?>;

public sealed class SaveRightsMessageHandler(NpgsqlDataSource db, AuditLog audit) : Mediator.ICommandHandler<SaveRightsMessage, long?>
{
    public async ValueTask<long?> Handle(SaveRightsMessage command, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var parameters = new { command.Id, command.Title, bodies = JsonSerializer.Serialize(command.Bodies), command.Actor };
        var id = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            command.Id is null
                ? """
                  INSERT INTO rights_messages (title, bodies, updated_by) VALUES (@Title, @bodies::jsonb, @Actor)
                  ON CONFLICT (title) DO NOTHING
                  RETURNING id
                  """
                : """
                  UPDATE rights_messages SET title = @Title, bodies = @bodies::jsonb, updated_by = @Actor, updated_at = now()
                  WHERE id = @Id AND NOT EXISTS (SELECT 1 FROM rights_messages WHERE title = @Title AND id <> @Id)
                  RETURNING id
                  """,
            parameters, cancellationToken: cancellationToken));
        if (id is { } saved)
        {
            await audit.RecordAsync(command.Actor, "rights.save", $"rights:{saved}", new { command.Title, languages = command.Bodies.Keys },
                cancellationToken);
        }

        return id;
    }
}
