namespace AlertNet.Hotline;

public static class HotlineSetup
{
    public static IServiceCollection AddAlertNetHotline(this IServiceCollection services) => services.AddSingleton<ReceiveReport>();

    public static IEndpointRouteBuilder MapHotline(this IEndpointRouteBuilder app)
    {
        app.MapListReports();
        app.MapReviewReport();
        app.MapGroupReports();
        return app;
    }
}
