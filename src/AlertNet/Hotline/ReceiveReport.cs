using AlertNet.Privacy;
using AlertNet.Subscribers;
using Dapper;
using Npgsql;

namespace AlertNet.Hotline;

/// <summary>A sighting texted in as <c>REPORT &lt;text&gt;</c> (or REPORTE, SIGNALER, RAPÒ, ...) from any number,
/// subscribed or not. It lands in the hotline inbox for a coordinator to verify; nothing is broadcast from it.
/// Called by the inbound dispatch inside its transaction, so a repeated MessageSid stores nothing twice.</summary>
public sealed class ReceiveReport(PersonalDataProtector protector, Replies replies, ILogger<ReceiveReport> logger)
{
    /// <summary>Stores the report and returns the reply: what happens next and a safety note, or, for REPORT
    /// alone, what to send. A number that texted STOP is still heard, but hears nothing back.</summary>
    public async Task<string?> AnswerAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, SubscriberAddress from,
        byte[] phoneIndex, KeywordMatch keyword, string? body, string? language, CancellationToken cancellationToken)
    {
        var replyLanguage = language ?? keyword.Language;
        var optedOut = await SubscriberStore.IsOptedOutAsync(connection, transaction, phoneIndex, cancellationToken);
        if (keyword.Argument.Length == 0)
        {
            return optedOut ? null : replies.Get("reportEmpty", replyLanguage);
        }

        var text = Keywords.TextAfterWords(body, keyword.Keyword.Split(' ').Length);
        // No index of the reporter: nothing finds reports by number, and a dump must not join a report to a subscription.
        var id = await RowIds.NextAsync(connection, transaction, "hotline_reports", cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO hotline_reports (id, channel, reporter_cipher, body_cipher) OVERRIDING SYSTEM VALUE
            VALUES (@id, @channel, @reporter, @text)
            """,
            new
            {
                id,
                channel = from.Channel,
                reporter = protector.Encrypt(from.E164, CipherPlaces.HotlineReporter(id)),
                text = protector.Encrypt(text, CipherPlaces.HotlineText(id)),
            },
            transaction, cancellationToken: cancellationToken));
        logger.LogInformation("Hotline report {ReportId} received", id);
        return optedOut ? null : replies.Get("reportReceived", replyLanguage);
    }
}
