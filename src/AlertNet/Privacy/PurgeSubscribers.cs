using System.Security.Claims;
using AlertNet.Hosting;
using AlertNet.Infrastructure.Auth;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Privacy;

/// <summary>What an emergency purge removed.</summary>
public sealed record PurgeResult(long Subscribers, long Memberships, long InboundMessages, long HotlineReports, long DeliveriesUnlinked);

/// <summary>Emergency purge (a seizure is coming): wipes every subscriber at once, with their memberships,
/// inbound texts, hotline reports and hints, then unlinks every delivery from them. Kept: the opt-out blind
/// indexes (a person who said STOP is never texted again, even if re-added), alerts with their anonymous
/// counts, groups, organizer phones (the organizers' own numbers, registered by an admin, needed to keep
/// organizing; remove them with register-organizer-phone --remove), API tokens and the audit log, which
/// records the purge. Alerts in flight stop: their batches see the subscriber gone within a quarter second
/// and skip the rest.</summary>
public sealed class PurgeSubscribers(NpgsqlDataSource db, AuditLog audit, IOptions<PrivacyOptions> options, ILogger<PurgeSubscribers> logger)
{
    public const string Verb = "purge-subscribers";

    /// <summary>What the operator must type: long enough not to be typed by accident.</summary>
    public const string ConfirmationPhrase = "PURGE ALL SUBSCRIBERS";

    /// <summary>Audited before anything is deleted; batches being sent look for it to stop at once.</summary>
    public const string StartedAction = "subscribers.purge.start";

    public async Task<PurgeResult> PurgeAsync(string actor, CancellationToken cancellationToken)
    {
        // Recorded first, so that even a purge interrupted half-way leaves its trace.
        await audit.RecordAsync(actor, StartedAction, null, null, cancellationToken);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var result = await WipeWithRetryAsync(connection, cancellationToken);

        // The subscribers are gone; what remains are dangling ids and Twilio SIDs (which give the number
        // back to whoever holds the Twilio credentials).
        var unlinked = await RetentionJob.UnlinkAlertAsync(connection, null, options.Value.BatchSize, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "ALTER TABLE deliveries VALIDATE CONSTRAINT deliveries_subscriber_id_fkey", cancellationToken: cancellationToken, commandTimeout: 600));
        result = result with { DeliveriesUnlinked = unlinked };
        await audit.RecordAsync(actor, "subscribers.purge", null, result, cancellationToken);
        logger.LogWarning("Emergency purge by {Actor}: {Subscribers} subscribers, {Reports} hotline reports, {Inbound} inbound texts removed; {Deliveries} deliveries unlinked",
            actor, result.Subscribers, result.HotlineReports, result.InboundMessages, unlinked);
        return result;
    }

    /// <summary>The wipe itself, in one transaction. It needs every table at once, while alerts in flight hold
    /// row locks on deliveries and subscribers: it takes all of its locks up front, in one order, and if
    /// PostgreSQL still picks it as a deadlock victim it simply runs again (nothing was changed).</summary>
    private static async Task<PurgeResult> WipeWithRetryAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var counts = await connection.QuerySingleAsync<(long Subscribers, long Memberships, long Inbound, long Reports)>(new CommandDefinition(
                    """
                    LOCK TABLE deliveries, subscribers, memberships, inbound_messages, hotline_reports, unknown_text_hints, sender_budgets
                        IN ACCESS EXCLUSIVE MODE;
                    SELECT (SELECT count(*) FROM subscribers), (SELECT count(*) FROM memberships),
                           (SELECT count(*) FROM inbound_messages), (SELECT count(*) FROM hotline_reports)
                    """, transaction: transaction, cancellationToken: cancellationToken));
                // TRUNCATE is instant whatever the size, and takes the tables from under concurrent readers at
                // once. The foreign key from deliveries would forbid it (and DELETE would check millions of
                // deliveries per subscriber), so it is dropped and re-added NOT VALID around the TRUNCATE; the
                // links left dangling are nulled afterwards in batches, then the key is validated.
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_subscriber_id_fkey;
                    TRUNCATE memberships, subscribers, inbound_messages, hotline_reports, unknown_text_hints, sender_budgets;
                    ALTER TABLE deliveries ADD CONSTRAINT deliveries_subscriber_id_fkey
                        FOREIGN KEY (subscriber_id) REFERENCES subscribers (id) ON DELETE SET NULL NOT VALID;
                    """, transaction: transaction, cancellationToken: cancellationToken));
                await transaction.CommitAsync(cancellationToken);
                return new PurgeResult(counts.Subscribers, counts.Memberships, counts.Inbound, counts.Reports, 0);
            }
            catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < 10)
            {
                // Rolled back: try again.
            }
        }
    }

    /// <summary><c>purge-subscribers [--confirm "PURGE ALL SUBSCRIBERS"]</c>: without --confirm, asks for
    /// the phrase on standard input. Anything else purges nothing.</summary>
    public static async Task<int> RunAsync(IServiceProvider services, CommandLineVerb verb, TextReader input, TextWriter output, TextWriter errors)
    {
        var confirmation = verb.Option("confirm");
        if (confirmation is null)
        {
            await output.WriteLineAsync(
                $"This deletes every subscriber, membership, inbound text and hotline report now. Opt-outs are kept.\nType {ConfirmationPhrase} to go on:");
            confirmation = await input.ReadLineAsync();
        }

        if (!string.Equals(confirmation?.Trim(), ConfirmationPhrase, StringComparison.Ordinal))
        {
            await errors.WriteLineAsync($"Not confirmed: nothing was purged. The confirmation is the exact phrase {ConfirmationPhrase}.");
            return 1;
        }

        var result = await services.GetRequiredService<PurgeSubscribers>().PurgeAsync("command-line", CancellationToken.None);
        await output.WriteLineAsync(
            $"Purged {result.Subscribers} subscribers, {result.Memberships} memberships, {result.InboundMessages} inbound texts, " +
            $"{result.HotlineReports} hotline reports; {result.DeliveriesUnlinked} deliveries unlinked. Opt-outs kept.");
        return 0;
    }
}

public sealed record PurgeSubscribersRequest(string? Confirm);

public static class PurgeSubscribersEndpoint
{
    /// <summary><c>POST /api/admin/purge-subscribers</c> with <c>{"confirm": "PURGE ALL SUBSCRIBERS"}</c>: the verb's
    /// purge for an admin who cannot reach the command line in time. Admins only.</summary>
    public static void MapPurgeSubscribers(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/admin/purge-subscribers", async (PurgeSubscribersRequest? request, PurgeSubscribers purge, ClaimsPrincipal user,
                CancellationToken cancellationToken) =>
            !string.Equals(request?.Confirm, PurgeSubscribers.ConfirmationPhrase, StringComparison.Ordinal)
                ? Results.Problem($"Not confirmed: nothing was purged. confirm must be the exact phrase {PurgeSubscribers.ConfirmationPhrase}.",
                    statusCode: StatusCodes.Status400BadRequest)
                // Not cancelled with the request: a purge that started goes to the end.
                : Results.Ok(await purge.PurgeAsync(user.Identity!.Name!, CancellationToken.None)))
            .RequireAuthorization(policy => policy.RequireRole(Roles.Admin));
}
