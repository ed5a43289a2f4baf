namespace AlertNet.Dashboard;

public static class DashboardSetup
{
    public static IServiceCollection AddAlertNetDashboard(this IServiceCollection services)
    {
        services.AddSingleton<DashboardPoller>();
        return services;
    }

    /// <summary>Live delivery figures: the dashboard, its server-sent events and the overview.</summary>
    public static void MapAlertNetDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGetAlertDashboard();
        app.MapAlertEvents();
        app.MapGetOverview();
    }
}
