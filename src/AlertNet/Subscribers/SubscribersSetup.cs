using AlertNet.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AlertNet.Subscribers;

public static class SubscribersSetup
{
    public static IServiceCollection AddAlertNetSubscribers(this IServiceCollection services)
    {
        services.TryAddSingleton<Replies>();
        services.AddOptions<SubscribersOptions>().BindConfiguration(SubscribersOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<SenderLimits>();
        services.AddSingleton<OrganizerPhones>();
        services.AddSingleton<ProposeSmsAlert>();
        services.AddSingleton<ConfirmSmsAlert>();
        services.AddSingleton<ReplyOutbox>();
        services.AddHostedService(sp => sp.GetRequiredService<ReplyOutbox>());
        services.AddSingleton<IValidateOptions<AlertNetOptions>, ContactInfoRequiredWhenLive>();
        return services;
    }

    /// <summary>Carriers require HELP replies to say how to reach the sender: a live deployment must set
    /// AlertNet:ContactInfo (drill mode may leave it out, and says so in the reply).</summary>
    private sealed class ContactInfoRequiredWhenLive(IConfiguration configuration) : IValidateOptions<AlertNetOptions>
    {
        public ValidateOptionsResult Validate(string? name, AlertNetOptions options)
        {
            var live = options.Mode == "live" || !string.IsNullOrWhiteSpace(configuration["Twilio:AccountSid"]);
            return live && string.IsNullOrWhiteSpace(options.ContactInfo)
                ? ValidateOptionsResult.Fail("AlertNet:ContactInfo is required in live mode: carriers require HELP replies to give a contact.")
                : ValidateOptionsResult.Success;
        }
    }
}
