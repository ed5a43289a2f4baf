using System.Globalization;
using System.Security.Cryptography;
using AlertNet.Alerts;
using AlertNet.Privacy;
using Dapper;
using Npgsql;

namespace AlertNet.Subscribers;

/// <summary><c>YES &lt;code&gt;</c> (any opt-in word) from a registered organizer phone: sends the alert that phone
/// proposed with ALERT, as an urgent alert through <see cref="TriggerAlert"/>, if the code is right, unused and at
/// most ten minutes old and not replaced by a later ALERT from that phone (a replaced code is simply wrong). At most
/// <see cref="MaxWrongCodesPerHour"/> wrong codes per phone per hour.</summary>
public sealed class ConfirmSmsAlert(NpgsqlDataSource db, Mediator.IMediator mediator, PersonalDataProtector protector, Replies replies,
    AuditLog audit, ILogger<ConfirmSmsAlert> logger)
{
    public const int MaxWrongCodesPerHour = 5;

    /// <summary>The reply, or, when the code is good, null and the step that triggers the alert: it must run after the
    /// inbound transaction (which marks the code used) commits, so a code can never send twice. If the process dies
    /// between the two, the code is spent and nothing went out: the organizer sends ALERT again.</summary>
    public async Task<(string? Reply, Func<Task<string>>? AfterCommit)> AnswerAsync(NpgsqlConnection connection,
        NpgsqlTransaction transaction, OrganizerPhone organizer, string code, CancellationToken cancellationToken)
    {
        // One confirmation per phone at a time, so concurrent guesses cannot slip past the limit.
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT 1 FROM organizer_phones WHERE id = @id FOR UPDATE", new { id = organizer.Id }, transaction, cancellationToken: cancellationToken));
        var wrongCodes = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            """
            DELETE FROM sms_alert_code_failures WHERE organizer_phone_id = @id AND failed_at < now() - interval '1 hour';
            SELECT count(*) FROM sms_alert_code_failures WHERE organizer_phone_id = @id;
            """,
            new { id = organizer.Id }, transaction, cancellationToken: cancellationToken));
        if (wrongCodes >= MaxWrongCodesPerHour)
        {
            return (replies.Get("smsAlertLocked", organizer.Language), null);
        }

        var pending = await connection.QueryAsync<(long Id, byte[] CodeHash, bool Used, bool Expired)>(new CommandDefinition(
            """
            SELECT id, code_hash, used_at IS NOT NULL, expires_at <= now()
            FROM pending_sms_alerts WHERE organizer_phone_id = @id AND replaced_at IS NULL AND created_at > now() - interval '1 day'
            """,
            new { id = organizer.Id }, transaction, cancellationToken: cancellationToken));
        var hash = ProposeSmsAlert.CodeHash(protector, organizer.Id, code);
        (long Id, byte[] CodeHash, bool Used, bool Expired)? match = null;
        foreach (var candidate in pending)
        {
            // Every candidate is compared, in constant time: how long this takes says nothing about the code.
            if (CryptographicOperations.FixedTimeEquals(candidate.CodeHash, hash))
            {
                match = candidate;
            }
        }

        if (match is not { } found)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO sms_alert_code_failures (organizer_phone_id) VALUES (@id)", new { id = organizer.Id }, transaction,
                cancellationToken: cancellationToken));
            await audit.RecordAsync(organizer.Actor, "sms-alert.wrong-code", null, null, cancellationToken);
            return (replies.Get("smsAlertCodeWrong", organizer.Language), null);
        }

        var claimed = await connection.QuerySingleOrDefaultAsync<(long Id, string Group, byte[] Body, string Language)?>(new CommandDefinition(
            """
            UPDATE pending_sms_alerts p SET used_at = now()
            FROM groups g
            WHERE p.id = @id AND p.used_at IS NULL AND p.expires_at > now() AND g.id = p.group_id
            RETURNING p.id, g.name, p.body_cipher, p.language
            """,
            new { id = found.Id }, transaction, cancellationToken: cancellationToken));
        if (claimed is not { } alert)
        {
            return (replies.Get(found.Expired && !found.Used ? "smsAlertCodeExpired" : "smsAlertCodeUsed", organizer.Language), null);
        }

        return (null, () => TriggerAsync(organizer, found.Id, alert.Group, protector.Decrypt(alert.Body, CipherPlaces.SmsAlertDraft(alert.Id)), alert.Language));
    }

    /// <summary>Runs after the commit and is not cancelled with the request: the code is spent, the alert must go.</summary>
    private async Task<string> TriggerAsync(OrganizerPhone organizer, long pendingId, string group, string text, string language)
    {
        TriggerAlertResult result;
        try
        {
            // TriggerAlert audits the alert as created by sms:<name>.
            result = await mediator.Send(new TriggerAlert(AlertType.Urgent, [group], new Dictionary<string, string> { [language] = text },
                null, null, organizer.Actor), CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "SMS alert {PendingId} could not be triggered", pendingId);
            return replies.Get("smsAlertFailed", organizer.Language);
        }

        if (result is not TriggerAlertResult.Created created)
        {
            return replies.Get("smsAlertUnknownGroup", organizer.Language, ProposeSmsAlert.Values(("group", group)));
        }

        try
        {
            await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE pending_sms_alerts SET alert_id = @alertId WHERE id = @pendingId",
                new { alertId = created.Id, pendingId }, cancellationToken: CancellationToken.None));
        }
        catch (NpgsqlException e)
        {
            // Only bookkeeping: the alert is on its way.
            logger.LogWarning(e, "SMS alert {PendingId} became alert {AlertId}, which could not be noted", pendingId, created.Id);
        }

        var alertId = created.Id.ToString(CultureInfo.InvariantCulture);
        return created.AwaitingApproval
            ? replies.Get("smsAlertAwaitingApproval", organizer.Language, ProposeSmsAlert.Values(("alert", alertId),
                ("recipients", created.Recipients.GetValueOrDefault().ToString(CultureInfo.InvariantCulture))))
            : replies.Get("smsAlertSent", organizer.Language, ProposeSmsAlert.Values(("alert", alertId)));
    }
}
