using System.Globalization;
using System.Security.Cryptography;
using AlertNet.Alerts;
using AlertNet.Delivery;
using AlertNet.Privacy;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Subscribers;

/// <summary><c>ALERT &lt;group&gt; &lt;text&gt;</c> from a registered organizer phone: nothing is sent yet. The reply gives
/// the recipient count and segments (as the composer's preview computes them) and a one-time code; <c>YES &lt;code&gt;</c>
/// from the same phone within ten minutes sends the alert (<see cref="ConfirmSmsAlert"/>). The code goes back to the
/// phone that is registered, so a forged sender number cannot complete the command. A phone has one live code at a
/// time: a new proposal replaces the one before (so guessing faces one code, not one per proposal), and a phone makes
/// at most Alerts:SmsProposalsPerHour proposals an hour.</summary>
public sealed class ProposeSmsAlert(Mediator.IMediator mediator, PersonalDataProtector protector, Replies replies, AuditLog audit,
    IOptions<AlertsOptions> options)
{
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(10);

    /// <summary>Eight digits: one guess in 100 million, and wrong guesses are limited per hour (ConfirmSmsAlert).</summary>
    public const int CodeDigits = 8;

    /// <summary>A group's name or keyword may have this many words (EAST SIDE).</summary>
    private const int MaxGroupWords = 4;

    public async Task<string> AnswerAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, OrganizerPhone organizer,
        KeywordMatch keyword, string? body, CancellationToken cancellationToken)
    {
        var words = keyword.Argument.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            return replies.Get("smsAlertUsage", organizer.Language);
        }

        // The longest leading phrase that is a group's name or keyword: ALERT EAST SIDE agents... is group EAST SIDE.
        var candidates = Enumerable.Range(1, Math.Min(MaxGroupWords, words.Length)).Select(n => string.Join(' ', words[..n])).ToArray();
        var group = await connection.QueryFirstOrDefaultAsync<(string Keyword, long Id, string Name)?>(new CommandDefinition(
            """
            SELECT k.keyword, g.id, g.name FROM group_keywords k JOIN groups g ON g.id = k.group_id
            WHERE k.keyword = ANY(@candidates) ORDER BY length(k.keyword) DESC LIMIT 1
            """,
            new { candidates }, transaction, cancellationToken: cancellationToken));
        if (group is not { } found)
        {
            return replies.Get("smsAlertUnknownGroup", organizer.Language, Values(("group", words[0])));
        }

        var text = Keywords.TextAfterWords(body, keyword.Keyword.Split(' ').Length + found.Keyword.Split(' ').Length);
        var bodies = new Dictionary<string, string> { [organizer.Language] = text };
        if (AlertBodies.Problem(bodies) is not null)
        {
            // The API's rules for a body: some text, at most 1,600 characters.
            return replies.Get(SmsSegments.IsTooLong(text) ? "smsAlertTooLong" : "smsAlertUsage", organizer.Language);
        }

        // One proposal per phone at a time (the row lock), so concurrent ALERTs cannot slip past the limit or leave two
        // live codes; the unique index pending_sms_alerts_one_live holds the rule even if this were missed.
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT 1 FROM organizer_phones WHERE id = @id FOR UPDATE", new { id = organizer.Id }, transaction, cancellationToken: cancellationToken));
        var lastHour = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT count(*)::int FROM pending_sms_alerts WHERE organizer_phone_id = @id AND created_at > now() - interval '1 hour'",
            new { id = organizer.Id }, transaction, cancellationToken: cancellationToken));
        if (lastHour >= options.Value.SmsProposalsPerHour)
        {
            await audit.RecordAsync(organizer.Actor, "sms-alert.propose-refused", $"group:{found.Name}", new { reason = "proposals per hour" },
                cancellationToken);
            return replies.Get("smsAlertTooManyProposals", organizer.Language);
        }

        if (await mediator.Send(new PreviewAlert([found.Name], bodies), cancellationToken) is not { } preview)
        {
            return replies.Get("smsAlertUnknownGroup", organizer.Language, Values(("group", found.Name)));
        }

        var code = RandomNumberGenerator.GetInt32(100_000_000).ToString("D8", CultureInfo.InvariantCulture);
        var id = await RowIds.NextAsync(connection, transaction, "pending_sms_alerts", cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM pending_sms_alerts WHERE organizer_phone_id = @organizerId AND created_at < now() - interval '1 day';
            UPDATE pending_sms_alerts SET replaced_at = now()
            WHERE organizer_phone_id = @organizerId AND used_at IS NULL AND replaced_at IS NULL;
            INSERT INTO pending_sms_alerts (id, organizer_phone_id, code_hash, group_id, body_cipher, language, expires_at) OVERRIDING SYSTEM VALUE
            VALUES (@id, @organizerId, @codeHash, @groupId, @body, @language, now() + @lifetime)
            """,
            new
            {
                id,
                organizerId = organizer.Id,
                codeHash = CodeHash(protector, organizer.Id, code),
                groupId = found.Id,
                body = protector.Encrypt(text, CipherPlaces.SmsAlertDraft(id)),
                language = organizer.Language,
                lifetime = CodeLifetime,
            },
            transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(organizer.Actor, "sms-alert.propose", $"group:{found.Name}",
            new { preview.Recipients, segments = preview.Languages[0].Segments }, cancellationToken);
        return replies.Get("smsAlertPreview", organizer.Language, Values(
            ("group", found.Name),
            ("recipients", preview.Recipients.ToString(CultureInfo.InvariantCulture)),
            ("segments", preview.Languages[0].Segments.ToString(CultureInfo.InvariantCulture)),
            ("code", code)));
    }

    /// <summary>Only a keyed hash of a code is stored, bound to the phone it was sent to: a copy of the database
    /// does not reveal live codes.</summary>
    public static byte[] CodeHash(PersonalDataProtector protector, long organizerId, string code) =>
        protector.BlindIndex($"sms-alert-code:{organizerId}:{code}");

    internal static Dictionary<string, string> Values(params (string Name, string Value)[] values) =>
        values.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
}
