using AlertNet.Hosting;
using AlertNet.Subscribers;
using Microsoft.Extensions.Options;

namespace AlertNet.Tests.Subscribers;

public sealed class SubscribersSetupTests
{
    [Theory]
    [InlineData("live", null, false)]
    [InlineData("auto", "AC123", false)]
    [InlineData("live", "AC123", true)]
    [InlineData("drill", null, true)]
    [InlineData("auto", null, true)]
    public void Live_mode_needs_a_contact_for_HELP_replies(string mode, string? accountSid, bool starts)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertNet:Mode"] = mode,
            ["AlertNet:ContactInfo"] = starts && mode == "live" ? "help@example.org" : null,
            ["Twilio:AccountSid"] = accountSid,
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddOptions<AlertNetOptions>().Bind(configuration.GetSection(AlertNetOptions.Section));
        services.AddAlertNetSubscribers();
        using var provider = services.BuildServiceProvider();

        var read = () => provider.GetRequiredService<IOptions<AlertNetOptions>>().Value;

        if (starts)
        {
            Assert.NotNull(read());
        }
        else
        {
            Assert.Contains("AlertNet:ContactInfo", Assert.Throws<OptionsValidationException>(read).Message, StringComparison.Ordinal);
        }
    }
}
