using System.Text.Json;
using AlertNet.Privacy;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>Fired by Hangfire's recurring job "campaign:{id}": sends the campaign's know-your-rights
/// message as an ordinary bulk alert, so it gets the same fan-out, throttle and quiet hours. The second-organizer rule
/// is checked here, at every run, from the campaigns table: a campaign that is not active holds; a run that would
/// reach more than the threshold and more than 10 % more people than were approved holds the campaign for approval
/// again; a run less than half of Alerts:CampaignMinimumInterval after the last one (a doubled or retried job, a
/// manual trigger) is skipped. A schedule the rules no longer allow (a seconds field or runs too close together, saved
/// before this check existed or before Alerts:CampaignMinimumInterval was raised) is taken off Hangfire at its first
/// run and the campaign rejected with the reason, until an organizer gives it an allowed schedule (PUT).</summary>
public sealed class RunCampaignJob(NpgsqlDataSource db, Mediator.IMediator mediator, AuditLog audit, IOptions<AlertsOptions> options,
    IRecurringJobManager recurring, ILogger<RunCampaignJob> logger)
{
    public static string RecurringJobId(long campaignId) => $"campaign:{campaignId}";

    [AutomaticRetry(Attempts = 3)]
    public async Task RunAsync(long campaignId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        Campaign found;
        await using (var connection = await db.OpenConnectionAsync(cancellationToken))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // FOR UPDATE: runs, approvals and changes of one campaign settle one after the other.
            var campaign = await connection.QuerySingleOrDefaultAsync<Campaign>(new CommandDefinition(
                """
                SELECT name, cron, time_zone AS timezone, bodies::text AS bodies, target_groups AS groups, state, approved_recipients AS approvedrecipients,
                       coalesce(last_run_at > now() - @soon, false) AS toosoon
                FROM campaigns WHERE id = @campaignId FOR UPDATE
                """,
                new { campaignId, soon = settings.CampaignMinimumInterval / 2 }, transaction, cancellationToken: cancellationToken));
            if (campaign is null)
            {
                return;
            }

            found = campaign;
            var actor = $"campaign:{found.Name}";
            var zone = TimeZoneInfo.TryFindSystemTimeZoneById(found.TimeZone, out var known) ? known : TimeZoneInfo.Utc;
            if (found.State != CampaignStates.Rejected
                && CampaignSchedule.Problem(found.Cron, zone, settings.CampaignMinimumInterval, DateTimeOffset.UtcNow) is { } problem)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    UPDATE campaigns SET state = 'rejected', awaiting_reason = NULL, rejected_by = 'AlertNet', rejected_at = now(),
                           reject_reason = @problem
                    WHERE id = @campaignId
                    """,
                    new { campaignId, problem }, transaction, cancellationToken: cancellationToken));
                await transaction.CommitAsync(cancellationToken);
                recurring.RemoveIfExists(RecurringJobId(campaignId));
                logger.LogWarning("Campaign {CampaignId} has a schedule campaigns may no longer have: taken off the schedule", campaignId);
                await audit.RecordAsync(actor, "campaign.schedule-refused", $"campaign:{campaignId}", new { reason = problem }, cancellationToken);
                return;
            }

            if (found.State != CampaignStates.Active)
            {
                await transaction.CommitAsync(cancellationToken);
                logger.LogInformation("Campaign {CampaignId} is {State}: this run sends nothing", campaignId, found.State);
                await audit.RecordAsync(actor, "campaign.run-held", $"campaign:{campaignId}", new { found.State }, cancellationToken);
                return;
            }

            if (found.TooSoon)
            {
                await transaction.CommitAsync(cancellationToken);
                logger.LogWarning("Campaign {CampaignId} ran less than half its minimum interval ago: this run is skipped", campaignId);
                await audit.RecordAsync(actor, "campaign.run-skipped", $"campaign:{campaignId}", new { reason = "too soon after the last run" },
                    cancellationToken);
                return;
            }

            var recipients = settings.ApprovalThreshold <= 0 ? 0 : await AlertRecipients.CountAsync(connection, transaction,
                await AlertRecipients.GroupIdsAsync(connection, transaction, found.Groups, cancellationToken), settings.ApprovalThreshold,
                cancellationToken);
            if (CampaignApproval.RunNeedsApproval(recipients, found.ApprovedRecipients, settings.ApprovalThreshold))
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    UPDATE campaigns SET state = 'awaiting_approval', awaiting_reason = 'grew', estimated_recipients = @recipients
                    WHERE id = @campaignId
                    """,
                    new { campaignId, recipients }, transaction, cancellationToken: cancellationToken));
                await transaction.CommitAsync(cancellationToken);
                logger.LogWarning("Campaign {CampaignId} would reach {Recipients} people, approved for {Approved}: it waits for approval",
                    campaignId, recipients, found.ApprovedRecipients);
                await audit.RecordAsync(actor, "campaign.hold", $"campaign:{campaignId}",
                    new { recipients, approvedRecipients = found.ApprovedRecipients, threshold = settings.ApprovalThreshold }, cancellationToken);
                return;
            }

            // Marked before the alert is created: if this process dies in between, this run is lost rather than doubled
            // by a retry (the next scheduled run sends as usual).
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE campaigns SET last_run_at = now() WHERE id = @campaignId", new { campaignId }, transaction,
                cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
        }

        await mediator.Send(new TriggerAlert(AlertType.KnowYourRights, found.Groups,
            JsonSerializer.Deserialize<Dictionary<string, string>>(found.Bodies)!, null, null, $"campaign:{found.Name}",
            // The rule was checked above, against what a second organizer approved for this campaign.
            SkipApproval: true), cancellationToken);
    }

    // A class, not a positional record: Dapper reports text[] as System.Array, which no constructor matches.
    private sealed class Campaign
    {
        public string Name { get; set; } = "";

        public string Cron { get; set; } = "";

        public string TimeZone { get; set; } = "";

        public string Bodies { get; set; } = "";

        public string[] Groups { get; set; } = [];

        public string State { get; set; } = "";

        public int? ApprovedRecipients { get; set; }

        public bool TooSoon { get; set; }
    }
}
