using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using Dapper;
using Npgsql;

namespace AlertNet.Dashboard;

/// <summary><c>GET /api/alerts/{id}/events</c>: the live dashboard as server-sent events. Each change is an event
/// <c>dashboard</c> whose data is the JSON of <c>GET /api/alerts/{id}/dashboard</c>; when the alert is settled a
/// last event <c>settled</c> ends the stream (a browser's EventSource should close then, or it reconnects and gets the
/// final dashboard again). A comment line every 15 s keeps proxies from closing a quiet stream.</summary>
public static class AlertEvents
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static void MapAlertEvents(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/alerts/{id:long}/events", StreamAsync).RequireAuthorization(Policies.Watch);

    private static async Task<IResult> StreamAsync(long id, HttpContext context, DashboardPoller poller, NpgsqlDataSource db)
    {
        var aborted = context.RequestAborted;
        await using (var connection = await db.OpenConnectionAsync(aborted))
        {
            if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                    "SELECT EXISTS (SELECT 1 FROM alerts WHERE id = @id)", new { id }, cancellationToken: aborted)))
            {
                return Results.Problem($"No alert {id}.", statusCode: StatusCodes.Status404NotFound);
            }
        }

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Tells nginx-style proxies not to buffer the stream.
        response.Headers["X-Accel-Buffering"] = "no";
        using var subscription = poller.Subscribe(id);
        try
        {
            await response.Body.FlushAsync(aborted);
            while (true)
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(aborted);
                quiet.CancelAfter(KeepAlive);
                bool more;
                try
                {
                    more = await subscription.Reader.WaitToReadAsync(quiet.Token);
                }
                catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                {
                    await response.WriteAsync(": keep-alive\n\n", aborted);
                    await response.Body.FlushAsync(aborted);
                    continue;
                }

                if (!more)
                {
                    break;
                }

                while (subscription.Reader.TryRead(out var dashboard))
                {
                    await response.WriteAsync($"event: dashboard\ndata: {JsonSerializer.Serialize(dashboard, JsonSerializerOptions.Web)}\n\n", aborted);
                }

                await response.Body.FlushAsync(aborted);
            }

            await response.WriteAsync("event: settled\ndata: {}\n\n", aborted);
            await response.Body.FlushAsync(aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The watcher went away; the subscription is released below.
        }

        return Results.Empty;
    }
}
