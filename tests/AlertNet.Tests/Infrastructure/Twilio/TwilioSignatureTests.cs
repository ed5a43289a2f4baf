using AlertNet.Infrastructure.Twilio;
using Twilio.Security;

namespace AlertNet.Tests.Infrastructure.Twilio;

public class TwilioSignatureTests
{
    private const string AuthToken = "12345678901234567890123456789012";

    public static TheoryData<string, string> Bodies => new()
    {
        { "https://alertnet.example.org/webhooks/twilio/inbound", "JOIN" },
        { "https://alertnet.example.org/webhooks/twilio/inbound", "ÚNETE" },
        { "https://alertnet.example.org/webhooks/twilio/inbound", "Agents at 5th & Main 🚨 ¡cuidado! ñ €" },
        { "https://alertnet.example.org/webhooks/twilio/status?delivery=42&lane=urgent", "ALTO" },
        { "http://127.0.0.1:5080/webhooks/twilio/status?delivery=7", "" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Signature_is_accepted_by_the_SDK_RequestValidator(string url, string body)
    {
        var parameters = new Dictionary<string, string>
        {
            ["MessageSid"] = "SM0123456789abcdef0123456789abcdef",
            ["MessagingServiceSid"] = "MG0123456789abcdef0123456789abcdef",
            ["AccountSid"] = "AC0123456789abcdef0123456789abcdef",
            ["Body"] = body,
            ["From"] = "+12025550123",
            ["To"] = "+12025550100",
            ["accountSid"] = "lower-case keys sort after upper-case ones",
            ["NumMedia"] = "0",
        };

        var signature = TwilioSignature.Compute(AuthToken, url, parameters);

        Assert.True(new RequestValidator(AuthToken).Validate(url, parameters, signature));
    }

    [Fact]
    public void Signature_without_parameters_covers_the_url_alone()
    {
        const string url = "https://alertnet.example.org/webhooks/twilio/status?delivery=42";

        var signature = TwilioSignature.Compute(AuthToken, url, []);

        Assert.True(new RequestValidator(AuthToken).Validate(url, new Dictionary<string, string>(), signature));
    }

    [Fact]
    public void Signature_no_longer_validates_when_a_parameter_changes()
    {
        const string url = "https://alertnet.example.org/webhooks/twilio/status?delivery=42";
        var parameters = new Dictionary<string, string> { ["MessageStatus"] = "delivered", ["To"] = "+12025550100" };
        var signature = TwilioSignature.Compute(AuthToken, url, parameters);

        parameters["MessageStatus"] = "failed";

        Assert.False(new RequestValidator(AuthToken).Validate(url, parameters, signature));
    }

    [Fact]
    public void Signature_depends_on_the_auth_token()
    {
        const string url = "https://alertnet.example.org/webhooks/twilio/status";
        var parameters = new Dictionary<string, string> { ["MessageStatus"] = "sent" };

        var signature = TwilioSignature.Compute("another-token", url, parameters);

        Assert.False(new RequestValidator(AuthToken).Validate(url, parameters, signature));
    }
}
