using AlertNet.Hosting;

namespace AlertNet.Delivery;

public static class DeliverySetup
{
    public static IServiceCollection AddAlertNetDelivery(this IServiceCollection services, AlertNetOptions options)
    {
        services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<WhatsAppOptions>().BindConfiguration(WhatsAppOptions.Section);
        services.AddSingleton<SenderThrottle>();
        services.AddSingleton<DeliveryStore>();
        services.AddSingleton<DeliverySender>();
        services.AddSingleton<AcceptedWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<AcceptedWriter>());
        services.AddSingleton<StatusCallbackWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<StatusCallbackWriter>());
        if (options.RunsWorker)
        {
            services.AddHostedService<DeliverySweeper>();
        }

        return services;
    }
}
