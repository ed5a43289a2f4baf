using System.Text.Json;
using Dapper;
using Hangfire;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>Fired by Hangfire's recurring job "campaign:{id}": sends the campaign's know-your-rights
/// message as an ordinary bulk alert, so it gets the same fan-out, throttle and quiet hours.</summary>
public sealed class RunCampaignJob(NpgsqlDataSource db, Mediator.IMediator mediator)
{
    public static string RecurringJobId(long campaignId) => $"campaign:{campaignId}";

    [AutomaticRetry(Attempts = 3)]
    public async Task RunAsync(long campaignId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var campaign = await connection.QuerySingleOrDefaultAsync<(string Name, string Bodies, string[] Groups)?>(new CommandDefinition(
            "SELECT name, bodies::text, target_groups FROM campaigns WHERE id = @campaignId", new { campaignId },
            cancellationToken: cancellationToken));
        if (campaign is not { } found)
        {
            return;
        }

        await mediator.Send(new TriggerAlert(AlertType.KnowYourRights, found.Groups,
            JsonSerializer.Deserialize<Dictionary<string, string>>(found.Bodies)!, null, null, $"campaign:{found.Name}",
            // An organizer set the campaign up; each recurrence is not asked for approval again.
            SkipApproval: true), cancellationToken);
    }
}
