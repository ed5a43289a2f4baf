using AlertNet.Infrastructure.Database;
using Hangfire;
using Npgsql;

namespace AlertNet.Hosting;

/// <summary><c>/readyz</c>: 200 when this process can do its work (the database answers, every migration it
/// knows is applied, Hangfire's storage is reachable), else 503 with the reasons; "provider" says whether the SMS
/// provider answers (an outage does not make the process unready). <c>/healthz</c> says only
/// whether the process is alive and sees the database; a load balancer sends traffic on /readyz.</summary>
public static class Readiness
{
    public static void MapReadiness(this IEndpointRouteBuilder app) =>
        app.MapGet("/readyz", ReadyAsync).AllowAnonymous();

    private static async Task<IResult> ReadyAsync(NpgsqlDataSource db, DatabaseMigrator migrator, JobStorage storage,
        Carrier.CarrierHealth carrier, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = db.CreateCommand("SELECT 1");
            command.CommandTimeout = 5;
            await command.ExecuteScalarAsync(cancellationToken);
        }
        catch (NpgsqlException)
        {
            return NotReady("database unreachable");
        }

        var reasons = new List<string>();
        try
        {
            var pending = await migrator.PendingScriptsAsync(cancellationToken);
            if (pending.Count > 0)
            {
                reasons.Add("migrations not applied: " + string.Join(", ", pending));
            }
        }
        catch (NpgsqlException)
        {
            reasons.Add("migration history unreadable");
        }

        try
        {
            // Hangfire's storage API is synchronous.
            await Task.Run(() => storage.GetMonitoringApi().Servers(), cancellationToken);
        }
        catch (Exception error) when (error is NpgsqlException or InvalidOperationException)
        {
            reasons.Add("Hangfire storage unreachable");
        }

        // An unreachable provider is reported, not a reason to be taken out of service: restarting or unrouting this process
        // would not bring the provider back, and the inbound webhooks (STOP above all) must keep working meanwhile.
        string provider;
        try
        {
            var outages = await carrier.OutagesAsync(cancellationToken);
            provider = outages.Count == 0 ? "reachable"
                : string.Join("; ", outages.Select(o => $"unreachable since {o.DownSinceUtc.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} (sender {o.Sender})"));
        }
        catch (NpgsqlException)
        {
            provider = "unknown";
        }
        return reasons.Count == 0 ? Results.Ok(new { status = "ready", provider }) : NotReady([.. reasons]);
    }

    private static IResult NotReady(params string[] reasons) =>
        Results.Json(new { status = "not ready", reasons }, statusCode: StatusCodes.Status503ServiceUnavailable);
}
