using AlertNet.Delivery;
using AlertNet.Hosting;
using AlertNet.Infrastructure.Auth;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>What the composer shows before Send: per language, how many people will get which text,
/// its encoding and segments (a Spanish accent can triple the cost), the cost and how long the send
/// takes at the configured throughput. Counts only, never numbers.</summary>
/// <param name="FollowUpOf">A correction or all-clear of this alert: its recipients are that alert's (follow_up_recipients),
/// not the groups'.</param>
public sealed record PreviewAlert(IReadOnlyList<string> Groups, IReadOnlyDictionary<string, string> Bodies, long? FollowUpOf = null)
    : Mediator.IQuery<AlertPreview?>;

public sealed record LanguagePreview(string Language, long Recipients, string Encoding, int Segments, int Units,
    IReadOnlyList<string> UnicodeCharacters);

public sealed record AlertPreview(long Recipients, long Segments, decimal EstimatedCost, double EstimatedSeconds,
    IReadOnlyList<LanguagePreview> Languages);

public sealed class PreviewAlertHandler(NpgsqlDataSource db, SenderThrottle throttle, IOptions<DeliveryOptions> delivery,
    IOptions<AlertNetOptions> app) : Mediator.IQueryHandler<PreviewAlert, AlertPreview?>
{
    public async ValueTask<AlertPreview?> Handle(PreviewAlert query, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        IEnumerable<(string Language, long Count)> byLanguage;
        if (query.FollowUpOf is { } original)
        {
            // The same recipients DispatchAlertJob will select for a follow-up.
            byLanguage = await connection.QueryAsync<(string Language, long Count)>(new CommandDefinition(
                "SELECT language, count(DISTINCT phone_index) FROM follow_up_recipients(@original) GROUP BY language",
                new { original }, cancellationToken: cancellationToken));
        }
        else
        {
            var knownGroups = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                "SELECT count(*) FROM groups WHERE name = ANY(@names)", new { names = query.Groups.ToArray() }, cancellationToken: cancellationToken));
            if (knownGroups != query.Groups.Count)
            {
                return null;
            }

            // The same recipients DispatchAlertJob will select.
            byLanguage = await connection.QueryAsync<(string Language, long Count)>(new CommandDefinition(
                """
                SELECT s.language, count(DISTINCT s.subscriber_id)
                FROM groups g
                JOIN reachable_members s ON s.group_id = g.id
                WHERE g.name = ANY(@names)
                GROUP BY s.language
                """,
                new { names = query.Groups.ToArray() }, cancellationToken: cancellationToken));
        }

        var counts = query.Bodies.ToDictionary(b => b.Key, b => SmsSegments.Analyze(b.Value));
        var recipientsPerBody = counts.Keys.ToDictionary(language => language, _ => 0L);
        foreach (var (language, count) in byLanguage)
        {
            var body = counts.ContainsKey(language) ? language
                : counts.ContainsKey(app.Value.DefaultLanguage) ? app.Value.DefaultLanguage
                : counts.Keys.First();
            recipientsPerBody[body] += count;
        }

        var languages = counts.Select(c => new LanguagePreview(c.Key, recipientsPerBody[c.Key], c.Value.Encoding, c.Value.Segments,
            c.Value.Units, c.Value.UnicodeCharacters)).ToList();
        var segments = languages.Sum(l => l.Recipients * l.Segments);
        return new AlertPreview(languages.Sum(l => l.Recipients), segments, segments * delivery.Value.PricePerSegment,
            throttle.EstimatedDuration(segments).TotalSeconds, languages);
    }
}

public sealed record PreviewAlertRequest(string[]? Groups, Dictionary<string, string>? Bodies, long? FollowUpOf = null);

public static class PreviewAlertEndpoint
{
    public static void MapPreviewAlert(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/alerts/preview", async (PreviewAlertRequest request, Mediator.IMediator mediator, CancellationToken cancellationToken) =>
            {
                if (AlertBodies.Problem(request.Bodies) is { } problem)
                {
                    return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
                }

                var groups = request.Groups is { Length: > 0 } ? request.Groups.Distinct().ToArray() : ["default"];
                return await mediator.Send(new PreviewAlert(groups, request.Bodies!, request.FollowUpOf), cancellationToken) is { } preview
                    ? Results.Ok(preview)
                    : Results.Problem("Unknown group.", statusCode: StatusCodes.Status400BadRequest);
            })
            .RequireAuthorization(Policies.Organize);
}
