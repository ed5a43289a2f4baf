using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Subscribers;
using AlertNet.Tests.Support;
using Dapper;
using AlertNet.Privacy;

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

    /// <summary>What people really send, as Twilio posts it: every payload gets a 200 and the right TwiML (here: the reply
    /// key, or null for silence), and is recorded once in inbound_messages with its text intact.</summary>
    public static TheoryData<string, Dictionary<string, string>, string?> OddPayloads()
    {
        var number = TwilioInbound.Number(140);
        var withoutBody = TwilioInbound.Sms(number, "");
        withoutBody.Remove("Body");
        return new TheoryData<string, Dictionary<string, string>, string?>
        {
            { "no Body field", withoutBody, "unknown" },
            { "empty Body", TwilioInbound.Sms(number, ""), "unknown" },
            { "only spaces and a new line", TwilioInbound.Sms(number, "  \n\t "), "unknown" },
            { "1,600 characters", TwilioInbound.Sms(number, string.Concat(Enumerable.Repeat("agents at the corner ", 80))), "unknown" },
            { "1,600 UTF-16 units of emoji", TwilioInbound.Sms(number, string.Concat(Enumerable.Repeat("🚨", 800))), "unknown" },
            { "longer than Twilio ever sends", TwilioInbound.Sms(number, new string('x', 20_000)), "unknown" },
            { "emoji only", TwilioInbound.Sms(number, "🚨👮‍♂️🚓"), "unknown" },
            { "emoji only on WhatsApp", TwilioInbound.WhatsApp(number, "🙏"), "unknown" },
            { "mixed scripts", TwilioInbound.Sms(number, "JOIN 中文 العربية Русский"), "unknownGroup" },
            { "a keyword in full-width letters", TwilioInbound.Sms(number, "ＪＯＩＮ"), "join" },
            { "a keyword with invisible characters", TwilioInbound.Sms(number, "JOIN\u200B\u00AD\u0007"), "join" },
            { "a mixed-script report", TwilioInbound.Sms(number, "REPORTE 3 агента cerca de 学校 🚨"), "reportReceived" },
            { "MMS with no text", Mms(number, ""), "unknown" },
            { "MMS with a report", Mms(number, "REPORT photo of the van"), "reportReceived" },
            { "a report of 1,600 characters", TwilioInbound.Sms(number, "REPORT " + new string('r', 1593)), "reportReceived" },
            { "the opt-out type with an empty body", TwilioInbound.Sms(number, "", optOutType: "STOP"), "optOut" },
        };
    }

    [Theory]
    [MemberData(nameof(OddPayloads))]
    public async Task Odd_payloads_get_an_answer_and_are_kept_once(string what, Dictionary<string, string> fields, string? replyKey)
    {
        var reply = await fixture.PostAsync(fields);

        var replies = App.Services.GetRequiredService<Replies>();
        Assert.True((replyKey is null ? null : replies.Get(replyKey, Keywords.Parse(fields.GetValueOrDefault("Body")).Language)) == reply,
            $"{what}: {reply}");
        await using var connection = await App.Db.OpenConnectionAsync();
        var stored = await connection.QuerySingleAsync<(long Id, byte[]? Body)>("SELECT id, body_cipher FROM inbound_messages WHERE sid_hash = @hash",
            new { hash = App.Protector.PurposeIndex(IndexPurpose.InboundMessageSid, fields["MessageSid"]) });
        var body = fields.GetValueOrDefault("Body") ?? "";
        Assert.Equal(body, stored.Body is null ? "" : App.Protector.Decrypt(stored.Body, CipherPlaces.InboundText(stored.Id)));
        if (replyKey == "reportReceived")
        {
            var report = await connection.QuerySingleAsync<(long Id, byte[] Body)>("SELECT id, body_cipher FROM hotline_reports");
            Assert.Equal(Keywords.TextAfterWords(body, 1), App.Protector.Decrypt(report.Body, CipherPlaces.HotlineText(report.Id)));
        }
    }

    [Fact]
    public async Task A_1600_character_report_reaches_the_inbox_whole()
    {
        var text = string.Concat(Enumerable.Repeat("Agentes en la escuela Juárez, 3 camionetas. ", 37))[..1593];
        Assert.Equal(1593, text.Length);

        await fixture.TextAsync(TwilioInbound.Number(141), "REPORT " + text);

        using var coordinator = await App.ClientWithRoleAsync(Roles.Coordinator);
        var page = await coordinator.GetFromJsonAsync<JsonElement>("/api/hotline");
        Assert.Equal(text, page.GetProperty("reports")[0].GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("JOIN")]
    [InlineData("STOP")]
    [InlineData("REPORT agents at the school")]
    [InlineData("hello?")]
    public async Task The_same_MessageSid_is_processed_once_even_when_it_arrives_at_the_same_time(string body)
    {
        var number = TwilioInbound.Number(142);
        if (body == "STOP")
        {
            await App.TextAsync(number, "JOIN");
        }

        var fields = TwilioInbound.Sms(number, body);
        // Replies reach the phone through the carrier: with three posts at once, count what the phone got in all.
        var before = App.Carrier.ReceivedBy(number).Count;
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => fixture.PostAsync(fields)));
        var again = await fixture.PostAsync(fields);

        Assert.Single(App.RepliesSince(number, before));
        Assert.Null(again);
        await using var connection = await App.Db.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM inbound_messages WHERE sid_hash = @hash",
            new { hash = App.Protector.PurposeIndex(IndexPurpose.InboundMessageSid, fields["MessageSid"]) }));
        Assert.Equal(body.StartsWith("REPORT", StringComparison.Ordinal) ? 1 : 0,
            await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM hotline_reports"));
    }

    [Theory]
    [InlineData(null, "SM1", "From is not a phone number")]
    [InlineData("", "SM2", "From is not a phone number")]
    [InlineData("not-a-number", "SM3", "From is not a phone number")]
    [InlineData("+1202", "SM4", "From is not a phone number")]
    [InlineData("12345678901234567890", "SM5", "From is not a phone number")]
    [InlineData("whatsapp:", "SM6", "From is not a phone number")]
    [InlineData("whatsapp:hello", "SM7", "From is not a phone number")]
    [InlineData("+12025550114", null, "MessageSid is required")]
    [InlineData("+12025550114", "", "MessageSid is required")]
    [InlineData("+12025550114", "SM0123456789012345678901234567890123456789012345678901234567890123", "MessageSid is required")]
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
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task A_body_that_is_not_a_form_gets_415()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/twilio/inbound")
        {
            Content = new StringContent("""{"From":"+12025550114","Body":"JOIN"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Twilio-Signature", "c2lnbmF0dXJl");

        var response = await App.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task A_form_beyond_the_limits_gets_413_not_a_crash()
    {
        var tooManyFields = TwilioInbound.Sms(TwilioInbound.Number(143), "JOIN");
        for (var i = 0; i < 1100; i++)
        {
            tooManyFields["Extra" + i] = "x";
        }

        var tooLong = TwilioInbound.Sms(TwilioInbound.Number(143), new string('a', 5 * 1024 * 1024));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await App.PostSignedAsync("/webhooks/twilio/inbound", tooManyFields)).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await App.PostSignedAsync("/webhooks/twilio/inbound", tooLong)).StatusCode);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task A_form_the_reader_cannot_decode_gets_400_with_the_reason()
    {
        var response = await App.PostSignedAsync("/webhooks/twilio/inbound", TwilioInbound.Sms(TwilioInbound.Number(143), "JOIN\u0000"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid characters", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task A_webhook_without_a_valid_signature_gets_403_and_changes_nothing()
    {
        var fields = TwilioInbound.Sms(TwilioInbound.Number(144), "REPORT agents");
        var unsigned = await App.Http.PostAsync("/webhooks/twilio/inbound", new FormUrlEncodedContent(fields));
        var forged = await App.PostSignedAsync("/webhooks/twilio/inbound", fields, authToken: "not-the-token");

        Assert.Equal(HttpStatusCode.Forbidden, unsigned.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        await AssertNothingStoredAsync();
    }

    private static Dictionary<string, string> Mms(string from, string body)
    {
        var fields = TwilioInbound.Sms(from, body);
        fields["NumMedia"] = "1";
        fields["MediaContentType0"] = "image/jpeg";
        fields["MediaUrl0"] = $"https://api.twilio.com/2010-04-01/Accounts/{fields["AccountSid"]}/Messages/{fields["MessageSid"]}/Media/ME0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d";
        return fields;
    }

    private async Task AssertNothingStoredAsync()
    {
        await using var connection = await App.Db.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT (SELECT count(*) FROM inbound_messages) + (SELECT count(*) FROM subscribers) + (SELECT count(*) FROM hotline_reports)"));
    }
}
