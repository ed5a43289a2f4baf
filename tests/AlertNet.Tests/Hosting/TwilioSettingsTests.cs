using AlertNet.Hosting;
using AlertNet.Infrastructure.Twilio;

namespace AlertNet.Tests.Hosting;

public sealed class TwilioSettingsTests
{
    private static readonly string KeyFilePath = Path.Combine(Path.GetTempPath(), "alertnet-test-keys-" + Guid.NewGuid().ToString("N") + ".json");

    [Fact]
    public void Without_credentials_AlertNet_runs_in_drill_mode_against_its_own_simulator()
    {
        var settings = TwilioSettings.Resolve(new AlertNetOptions { PublicBaseUrl = "http://127.0.0.1:5080", KeyFile = KeyFilePath }, new TwilioOptions());

        Assert.True(settings.IsDrill);
        Assert.Equal(new Uri("http://127.0.0.1:5080/drill/twilio"), settings.ApiBaseUrl);
        Assert.False(string.IsNullOrEmpty(settings.AuthToken));
    }

    [Fact]
    public void Drill_mode_cannot_be_on_with_real_credentials()
    {
        var error = Assert.Throws<InvalidOperationException>(() => TwilioSettings.Resolve(
            new AlertNetOptions { Mode = "drill" },
            new TwilioOptions { AccountSid = "AC123", AuthToken = "secret", From = "+12025550100" }));

        Assert.Contains("Drill mode cannot run with real Twilio credentials", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Half_a_set_of_credentials_is_refused()
    {
        Assert.Throws<InvalidOperationException>(() => TwilioSettings.Resolve(new AlertNetOptions(), new TwilioOptions { AccountSid = "AC123" }));
    }

    [Fact]
    public void Live_mode_uses_the_configured_api_base_url_and_sender()
    {
        var settings = TwilioSettings.Resolve(new AlertNetOptions(), new TwilioOptions
        {
            AccountSid = "AC123",
            AuthToken = "secret",
            MessagingServiceSid = "MG123",
            ApiBaseUrl = "http://127.0.0.1:9999/twilio",
        });

        Assert.False(settings.IsDrill);
        Assert.Equal("MG123", settings.MessagingServiceSid);
        Assert.Equal(new Uri("http://127.0.0.1:9999/twilio"), settings.ApiBaseUrl);
    }
}
