using System.Net;
using AlertNet.Infrastructure.Twilio;

namespace AlertNet.Tests.Infrastructure.Twilio;

public class TwilioApiBaseUrlHandlerTests
{
    private const string MessagesUrl =
        "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

    [Theory]
    [InlineData("http://127.0.0.1:5080/drill/twilio")]
    [InlineData("http://127.0.0.1:5080/drill/twilio/")]
    public async Task Twilio_API_request_goes_to_the_base_url_under_its_path_prefix(string baseUrl)
    {
        var sent = await SendThroughAsync(baseUrl, MessagesUrl);

        Assert.Equal(
            "http://127.0.0.1:5080/drill/twilio/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json",
            sent.AbsoluteUri);
    }

    [Fact]
    public async Task Base_url_without_a_path_keeps_Twilio_path_as_is()
    {
        var sent = await SendThroughAsync("https://twilio-stand-in.example.org:8443", MessagesUrl);

        Assert.Equal(
            "https://twilio-stand-in.example.org:8443/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json",
            sent.AbsoluteUri);
    }

    [Fact]
    public async Task Escaped_query_of_a_list_request_survives_the_rewrite()
    {
        var sent = await SendThroughAsync(
            "http://127.0.0.1:5080/drill/twilio",
            MessagesUrl + "?To=%2B12025550100&DateSent%3E=2025-01-01T00%3A00%3A00Z&PageSize=50");

        Assert.Equal("?To=%2B12025550100&DateSent%3E=2025-01-01T00%3A00%3A00Z&PageSize=50", sent.Query);
        Assert.Equal("/drill/twilio/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json", sent.AbsolutePath);
    }

    [Theory]
    [InlineData("https://api.twilio.com")]
    [InlineData("https://api.twilio.com/")]
    public async Task Twilio_own_base_url_changes_nothing(string baseUrl)
    {
        var sent = await SendThroughAsync(baseUrl, MessagesUrl + "?To=%2B12025550100");

        Assert.Equal(MessagesUrl + "?To=%2B12025550100", sent.AbsoluteUri);
    }

    [Fact]
    public async Task Request_to_another_host_is_left_alone()
    {
        var sent = await SendThroughAsync("http://127.0.0.1:5080/drill/twilio", "https://example.org/health");

        Assert.Equal("https://example.org/health", sent.AbsoluteUri);
    }

    [Fact]
    public async Task Regional_Twilio_API_host_is_rewritten_too()
    {
        var sent = await SendThroughAsync(
            "http://127.0.0.1:5080/drill/twilio",
            "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json");

        Assert.Equal(
            "http://127.0.0.1:5080/drill/twilio/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json",
            sent.AbsoluteUri);
    }

    private static async Task<Uri> SendThroughAsync(string baseUrl, string requestUrl)
    {
        var recorder = new RecordingHandler();
        using var client = new HttpClient(new TwilioApiBaseUrlHandler(new Uri(baseUrl)) { InnerHandler = recorder });
        using var response = await client.GetAsync(new Uri(requestUrl));
        return recorder.LastUri ?? throw new InvalidOperationException("No request reached the inner handler.");
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        public Uri? LastUri { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            LastUri = request.RequestUri;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }
}
