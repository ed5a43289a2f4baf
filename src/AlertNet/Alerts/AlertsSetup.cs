namespace AlertNet.Alerts;

public static class AlertsSetup
{
    public static IServiceCollection AddAlertNetAlerts(this IServiceCollection services)
    {
        services.AddOptions<AlertsOptions>().BindConfiguration(AlertsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }

    /// <summary>Second-organizer approval of large sends, and the composer's test send.</summary>
    public static void MapAlertApprovals(this IEndpointRouteBuilder app)
    {
        app.MapListApprovals();
        app.MapApproveAlert();
        app.MapRejectAlert();
        app.MapTestSendAlert();
    }
}
