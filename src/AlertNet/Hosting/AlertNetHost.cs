using AlertNet.Alerts;
using AlertNet.Carrier;
using AlertNet.Dashboard;
using AlertNet.Delivery;
using AlertNet.Hotline;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Database;
using AlertNet.Infrastructure.Jobs;
using AlertNet.Infrastructure.Telemetry;
using AlertNet.Infrastructure.Twilio;
using AlertNet.Privacy;
using AlertNet.Simulator;
using AlertNet.Subscribers;
using AlertNet.Web;
using Mediator;

namespace AlertNet.Hosting;

/// <summary>Wires AlertNet's features into the host; Program.cs stays a few lines.</summary>
public static class AlertNetHost
{
    public static WebApplicationBuilder AddAlertNet(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddOptions<AlertNetOptions>().BindConfiguration(AlertNetOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var options = configuration.GetSection(AlertNetOptions.Section).Get<AlertNetOptions>() ?? new AlertNetOptions();
        if (!options.RunsWeb && string.IsNullOrEmpty(configuration["urls"]))
        {
            // A worker serves only /healthz; unless told a port, it takes a free one so that several
            // workers can run on one machine.
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }

        builder.AddAlertNetTelemetry(configuration["urls"] is { Length: > 0 } urls ? urls.Split(';')
            : options.RunsWeb ? ["http://localhost:5000"] : ["http://127.0.0.1:0"]);

        services.AddMediator((MediatorOptions mediator) => mediator.ServiceLifetime = ServiceLifetime.Singleton);
        services.AddAlertNetDatabase(configuration);
        services.AddAlertNetTwilio(configuration);
        services.AddAlertNetCarrier(configuration, options);
        services.AddAlertNetPrivacy();
        services.AddAlertNetAuth(options);
        services.AddAlertNetWeb();
        // Delivery before jobs: hosted services stop in reverse order, so the group writers outlive the
        // Hangfire servers whose jobs use them.
        services.AddAlertNetDelivery(options);
        services.AddAlertNetJobs(configuration, options);
        services.AddAlertNetSubscribers();
        services.AddAlertNetHotline();
        services.AddAlertNetAlerts();
        services.AddAlertNetDashboard();
        services.AddPhoneSimulator();
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Converters.Add(new ValidTextConverter()));
        return builder;
    }

    public static WebApplication MapAlertNet(this WebApplication app)
    {
        app.UseAlertNetMetrics();
        app.UseForwardedHeaders();
        app.UseExceptionHandler();
        app.UseAlertNetWeb();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseCookieAntiforgery();

        app.MapGet("/healthz", HealthAsync).AllowAnonymous();
        app.MapReadiness();
        if (!app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AlertNetOptions>>().Value.RunsWeb)
        {
            return app;
        }

        app.MapReceiveInboundMessage();
        app.MapGroups();
        app.MapHotline();
        app.MapPrivacy();
        app.MapReceiveStatusCallback();
        app.MapTriggerAlert();
        app.MapGetAlert();
        app.MapCancelAlert();
        app.MapSendFollowUp();
        app.MapPreviewAlert();
        app.MapAlertApprovals();
        app.MapAlertNetDashboard();
        app.MapCampaigns();
        app.MapSetQuietHours();
        app.MapAlertNetTwilio();
        app.MapPhoneSimulator();
        app.MapAlertNetWeb();
        app.MapJobsDashboard();
        return app;
    }

    /// <summary>Migrates the database, then runs a command-line verb or serves until stopped.</summary>
    public static async Task<int> RunAlertNetAsync(this WebApplication app, CommandLineVerb? verb)
    {
        if (verb is null && app.RefusesAccidentalDrill())
        {
            return 2;
        }

        await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(app.Lifetime.ApplicationStopping);
        if (verb is not null)
        {
            return await CommandLineVerbs.RunAsync(app.Services, verb, Console.Out, Console.Error);
        }

        app.AnnounceMode();
        await app.RunAsync();
        return 0;
    }

    /// <summary>True (with one clear log line) when this server would run as a drill nobody asked for.</summary>
    public static bool RefusesAccidentalDrill(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AlertNetOptions>>().Value;
        if (TwilioSettings.RefusalToServe(options, app.Services.GetRequiredService<TwilioSettings>(), app.Environment.IsDevelopment()) is not { } reason)
        {
            return false;
        }

        app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("AlertNet").LogCritical("{Reason}", reason);
        return true;
    }

    /// <summary>Drill mode must be unmistakable: say so loudly, with what to try next.</summary>
    public static void AnnounceMode(this WebApplication app)
    {
        var twilio = app.Services.GetRequiredService<TwilioSettings>();
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AlertNetOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("AlertNet");
        if (!twilio.IsDrill)
        {
            logger.LogInformation("AlertNet LIVE: sending through Twilio at {ApiBaseUrl} as role {Role}", twilio.ApiBaseUrl, options.Role);
            return;
        }

        logger.LogWarning(
            """

            ==================================================================================
             DRILL MODE: no real text message will be sent. A carrier simulator at
             {ApiBaseUrl} stands in for Twilio (magic numbers: see README).
             Role: {Role}. Public URL: {PublicBaseUrl}
             Drill key file (webhook auth token): {KeyFile}
             Web app: create the first admin (the password is printed once)
               dotnet run --project src/AlertNet -- create-user --name admin --role admin
             then sign in at {WebUrl}/login
             API: create an organizer API token
               dotnet run --project src/AlertNet -- create-token --name me --role organizer
             then follow README "Try it".
            ==================================================================================
            """,
            twilio.ApiBaseUrl, options.Role, options.PublicBaseUrl, options.KeyFile ?? KeyFile.DefaultDrillPath, options.PublicBaseUrl.TrimEnd('/'));
    }

    private static async Task<IResult> HealthAsync(Npgsql.NpgsqlDataSource db, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = db.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return Results.Ok(new { status = "ok" });
        }
        catch (Npgsql.NpgsqlException)
        {
            return Results.Json(new { status = "database unreachable" }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
