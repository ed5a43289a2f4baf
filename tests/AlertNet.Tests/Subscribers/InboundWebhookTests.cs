using System.Net;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Subscribers;

public sealed class InboundWebhookTests(SubscriberAppFixture fixture) : IClassFixture<SubscriberAppFixture>, IAsyncLifetime
{
    private AlertNetTestApp App => fixture.App;

    public Task InitializeAsync() => fixture.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData("JOIN", "Msg & data rates may apply")]
    [InlineData("join", "Msg & data rates may apply")]
    [InlineData(" Únete ", "tarifas de mensajes y datos")]
    [InlineData("UNIRSE", "tarifas de mensajes y datos")]
    [InlineData("HELP", "Reply JOIN")]
    [InlineData("ayuda", "Responde UNETE")]
    [InlineData("what is this", "we did not understand")]
    [InlineData("", "we did not understand")]
    [InlineData("🚨🚨", "we did not understand")]
    public async Task Keywords_get_the_reply_in_the_keywords_language(string body, string expected)
    {
        var reply = await App.TextAsync("+12025550111", body);

        Assert.NotNull(reply);
        Assert.Contains(expected, reply, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("STOP")]
    [InlineData("stopall")]
    [InlineData("Unsubscribe")]
    [InlineData("CANCEL")]
    [InlineData("end")]
    [InlineData("QUIT")]
    [InlineData("revoke")]
    [InlineData("OPTOUT")]
    [InlineData("ALTO")]
    [InlineData("parar")]
    [InlineData("Baja")]
    [InlineData("cancelar")]
    public async Task Every_opt_out_word_unsubscribes_with_one_confirmation_then_silence(string word)
    {
        const string number = "+12025550112";
        await App.TextAsync(number, "JOIN");

        var confirmation = await App.TextAsync(number, word);
        var again = await App.TextAsync(number, word);
        var chatter = await App.TextAsync(number, "hello?");

        Assert.NotNull(confirmation);
        Assert.Null(again);
        Assert.Null(chatter);
    }

    [Fact]
    public async Task Start_after_stop_subscribes_again()
    {
        const string number = "+12025550113";
        await App.TextAsync(number, "JOIN");
        await App.TextAsync(number, "STOP");

        var reply = await App.TextAsync(number, "START");

        Assert.Contains("subscribed again", reply, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "SM1", "From is not a phone number")]
    [InlineData("not-a-number", "SM2", "From is not a phone number")]
    [InlineData("+12025550114", null, "MessageSid is required")]
    public async Task Malformed_inbound_webhooks_get_400_with_the_reason(string? from, string? sid, string reason)
    {
        var fields = new Dictionary<string, string> { ["Body"] = "JOIN" };
        if (from is not null)
        {
            fields["From"] = from;
        }

        if (sid is not null)
        {
            fields["MessageSid"] = sid;
        }

        var response = await App.PostSignedAsync("/webhooks/twilio/inbound", fields);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
