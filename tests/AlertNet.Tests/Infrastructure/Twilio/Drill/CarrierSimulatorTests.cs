using AlertNet.Infrastructure.Twilio.Drill;
using AlertNet.Tests.Support;
using Twilio.Exceptions;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Security;
using Twilio.Types;

namespace AlertNet.Tests.Infrastructure.Twilio.Drill;

public class CarrierSimulatorTests(CarrierSimulatorHost host) : IClassFixture<CarrierSimulatorHost>
{
    private static readonly TimeSpan CallbackTimeout = TimeSpan.FromSeconds(10);
    private static readonly PhoneNumber Sender = CarrierSimulatorHost.FictionalNumber(199);

    [Fact]
    public async Task Create_returns_a_Twilio_message_resource_and_the_carrier_counts_it()
    {
        var to = CarrierSimulatorHost.FictionalNumber(101);
        var requestsBefore = host.Carrier.CreateRequests;

        var message = await MessageResource.CreateAsync(
            to: new PhoneNumber(to), from: Sender, body: "Agents at 5th and Main", client: host.Client);

        Assert.Matches("^SM[0-9a-f]{32}$", message.Sid);
        Assert.Equal(MessageResource.StatusEnum.Queued, message.Status);
        Assert.Equal(to, message.To);
        Assert.Equal(Sender.ToString(), message.From.ToString());
        Assert.Equal(CarrierSimulatorHost.AccountSid, message.AccountSid);
        Assert.Equal("Agents at 5th and Main", message.Body);
        Assert.Equal(MessageResource.DirectionEnum.OutboundApi, message.Direction);
        Assert.Equal("2010-04-01", message.ApiVersion);
        Assert.Equal("1", message.NumSegments);
        Assert.Equal("0", message.NumMedia);
        Assert.Null(message.Price);
        Assert.Null(message.ErrorCode);
        Assert.Null(message.ErrorMessage);
        Assert.Null(message.MessagingServiceSid);
        Assert.Null(message.DateSent);
        Assert.NotNull(message.DateCreated);
        Assert.True(Math.Abs((message.DateCreated!.Value.ToUniversalTime() - DateTime.UtcNow).TotalMinutes) < 1);
        Assert.Equal($"/2010-04-01/Accounts/{CarrierSimulatorHost.AccountSid}/Messages/{message.Sid}.json", message.Uri);
        Assert.Contains("media", message.SubresourceUris.Keys);
        Assert.Equal(1, host.Carrier.CountTo(to));
        Assert.Equal(requestsBefore + 1, host.Carrier.CreateRequests);
        Assert.Contains(host.Carrier.Messages, m => m.Sid == message.Sid && m.Body == "Agents at 5th and Main");
    }

    [Fact]
    public async Task Ordinary_number_is_reported_sent_then_delivered()
    {
        var message = await SendWithCallbackAsync(CarrierSimulatorHost.FictionalNumber(102));

        var callbacks = await CallbacksAsync(message.Sid, count: 2);

        Assert.Equal(["sent", "delivered"], callbacks.Select(c => c.Status));
        Assert.All(callbacks, c => Assert.False(c.Fields.ContainsKey("ErrorCode")));
        Assert.All(callbacks, c => Assert.Equal(c.Status, c.Fields["SmsStatus"]));
        Assert.All(callbacks, c => Assert.Equal(message.Sid, c.Fields["SmsSid"]));
        Assert.All(callbacks, c => Assert.Equal(CarrierSimulatorHost.AccountSid, c.Fields["AccountSid"]));
        Assert.All(callbacks, c => Assert.Equal("2010-04-01", c.Fields["ApiVersion"]));
        Assert.All(callbacks, c => Assert.Equal(message.To, c.Fields["To"]));
        Assert.All(callbacks, c => Assert.Equal(Sender.ToString(), c.Fields["From"]));
    }

    [Fact]
    public async Task Magic_number_30003_is_sent_then_undelivered_with_the_error_code()
    {
        var message = await SendWithCallbackAsync(DrillMagicNumbers.Unreachable);

        var callbacks = await CallbacksAsync(message.Sid, count: 2);

        Assert.Equal(["sent", "undelivered"], callbacks.Select(c => c.Status));
        Assert.False(callbacks[0].Fields.ContainsKey("ErrorCode"));
        Assert.Equal("30003", callbacks[1].Fields["ErrorCode"]);
    }

    [Fact]
    public async Task Magic_number_30006_fails_without_being_sent()
    {
        var message = await SendWithCallbackAsync(DrillMagicNumbers.LandlineOrUnreachableCarrier);

        var callbacks = await CallbacksAsync(message.Sid, count: 1);
        var fetched = await MessageResource.FetchAsync(message.Sid, client: host.Client);

        Assert.Equal("failed", Assert.Single(callbacks).Status);
        Assert.Equal("30006", callbacks[0].Fields["ErrorCode"]);
        Assert.Equal(MessageResource.StatusEnum.Failed, fetched.Status);
        Assert.Equal(30006, fetched.ErrorCode);
        Assert.Null(fetched.DateSent);
    }

    [Fact]
    public async Task Magic_number_21211_surfaces_as_ApiException_with_code()
    {
        var error = await Assert.ThrowsAsync<ApiException>(() => SendWithCallbackAsync(DrillMagicNumbers.InvalidNumber));

        Assert.Equal(21211, error.Code);
        Assert.Equal(400, error.Status);
        Assert.Equal("https://www.twilio.com/docs/errors/21211", error.MoreInfo);
        Assert.Equal(0, host.Carrier.CountTo(DrillMagicNumbers.InvalidNumber));
    }

    [Fact]
    public async Task Magic_number_21610_surfaces_as_an_opt_out_ApiException()
    {
        var error = await Assert.ThrowsAsync<ApiException>(() => SendWithCallbackAsync(DrillMagicNumbers.OptedOut));

        Assert.Equal(21610, error.Code);
        Assert.Equal(400, error.Status);
        Assert.Equal(0, host.Carrier.CountTo(DrillMagicNumbers.OptedOut));
    }

    [Theory]
    [InlineData(DrillMagicNumbers.CannotRoute, 21612)]
    [InlineData(DrillMagicNumbers.RegionNotEnabled, 21408)]
    [InlineData(DrillMagicNumbers.NotMobile, 21614)]
    public async Task Twilio_test_numbers_are_rejected_with_Twilio_codes(string to, int code)
    {
        var error = await Assert.ThrowsAsync<ApiException>(() => SendWithCallbackAsync(to));

        Assert.Equal(code, error.Code);
        Assert.Equal(400, error.Status);
    }

    [Fact]
    public async Task WhatsApp_address_follows_the_same_rules_on_its_number()
    {
        var to = "whatsapp:" + CarrierSimulatorHost.FictionalNumber(103);
        var message = await SendWithCallbackAsync(to, from: "whatsapp:" + Sender);
        var optedOut = await Assert.ThrowsAsync<ApiException>(
            () => SendWithCallbackAsync("whatsapp:" + DrillMagicNumbers.OptedOut, from: "whatsapp:" + Sender));

        var callbacks = await CallbacksAsync(message.Sid, count: 2);

        Assert.Equal(["sent", "delivered"], callbacks.Select(c => c.Status));
        Assert.Equal(to, callbacks[0].Fields["To"]);
        Assert.Equal(1, host.Carrier.CountTo(to));
        Assert.Equal(21610, optedOut.Code);
    }

    [Fact]
    public async Task Status_callbacks_carry_a_signature_the_SDK_RequestValidator_accepts()
    {
        var callbackUrl = host.StatusCallbackUrl("signed-1");
        var message = await MessageResource.CreateAsync(
            to: new PhoneNumber(CarrierSimulatorHost.FictionalNumber(104)),
            messagingServiceSid: "MG0123456789abcdef0123456789abcdef",
            body: "ÚNETE 🚨",
            statusCallback: callbackUrl,
            client: host.Client);

        var callbacks = await CallbacksAsync(message.Sid, count: 2);

        var validator = new RequestValidator(CarrierSimulatorHost.AuthToken);
        Assert.All(callbacks, c =>
        {
            Assert.Equal("?delivery=signed-1", c.Query);
            Assert.Equal("MG0123456789abcdef0123456789abcdef", c.Fields["MessagingServiceSid"]);
            Assert.True(validator.Validate(callbackUrl.ToString(), c.Fields.ToDictionary(), c.Signature));
            Assert.False(new RequestValidator("another-token").Validate(callbackUrl.ToString(), c.Fields.ToDictionary(), c.Signature));
        });
    }

    [Fact]
    public async Task Messaging_service_send_is_accepted_and_the_carrier_picks_the_sender()
    {
        var message = await MessageResource.CreateAsync(
            to: new PhoneNumber(CarrierSimulatorHost.FictionalNumber(105)),
            messagingServiceSid: "MG0123456789abcdef0123456789abcdef",
            body: "Know your rights: you may remain silent.",
            statusCallback: host.StatusCallbackUrl("service-1"),
            client: host.Client);

        var callbacks = await CallbacksAsync(message.Sid, count: 2);
        var fetched = await MessageResource.FetchAsync(message.Sid, client: host.Client);

        Assert.Equal(MessageResource.StatusEnum.Accepted, message.Status);
        Assert.Null(message.From.ToString());
        Assert.Equal("0", message.NumSegments);
        Assert.Equal("MG0123456789abcdef0123456789abcdef", message.MessagingServiceSid);
        Assert.All(callbacks, c => Assert.Equal(DrillMagicNumbers.ServiceSender, c.Fields["From"]));
        Assert.Equal(DrillMagicNumbers.ServiceSender, fetched.From.ToString());
        Assert.Equal("1", fetched.NumSegments);
    }

    [Fact]
    public async Task Wrong_credentials_surface_as_ApiException_20003_with_status_401()
    {
        var impostor = host.ClientFor(CarrierSimulatorHost.AccountSid, "not-the-auth-token");
        var to = CarrierSimulatorHost.FictionalNumber(106);

        var error = await Assert.ThrowsAsync<ApiException>(
            () => MessageResource.CreateAsync(to: new PhoneNumber(to), from: Sender, body: "x", client: impostor));
        var readError = await Assert.ThrowsAsync<ApiException>(
            () => MessageResource.ReadAsync(new ReadMessageOptions { To = to }, impostor));

        Assert.Equal(20003, error.Code);
        Assert.Equal(401, error.Status);
        Assert.Equal(20003, readError.Code);
        Assert.Equal(0, host.Carrier.CountTo(to));
    }

    [Theory]
    [InlineData(null, "+12025550199", null, "Body", null, 21604)]
    [InlineData("+12025550107", null, null, "Body", null, 21603)]
    [InlineData("+12025550107", "+12025550199", null, null, null, 21602)]
    [InlineData("+12025550107", "+12025550199", null, "Body", 0, 21624)]
    [InlineData("+12025550107", "+12025550199", null, "Body", 36_001, 21624)]
    [InlineData("+12025550107", null, "HX0123456789abcdef0123456789abcdef", null, null, 21603)]
    public async Task Incomplete_request_gets_Twilio_validation_code(
        string? to, string? from, string? contentSid, string? body, int? validityPeriod, int code)
    {
        var options = new CreateMessageOptions(to is null ? null : new PhoneNumber(to))
        {
            From = from is null ? null : new PhoneNumber(from),
            ContentSid = contentSid,
            Body = body,
            ValidityPeriod = validityPeriod,
        };

        var error = await Assert.ThrowsAsync<ApiException>(() => MessageResource.CreateAsync(options, host.Client));

        Assert.Equal(code, error.Code);
        Assert.Equal(400, error.Status);
    }

    [Fact]
    public async Task Body_over_1600_characters_gets_21617_and_1600_are_accepted()
    {
        var to = new PhoneNumber(CarrierSimulatorHost.FictionalNumber(108));

        var error = await Assert.ThrowsAsync<ApiException>(
            () => MessageResource.CreateAsync(to: to, from: Sender, body: new string('a', 1601), client: host.Client));
        var longest = await MessageResource.CreateAsync(to: to, from: Sender, body: new string('a', 1600), client: host.Client);
        var spanish = await MessageResource.CreateAsync(to: to, from: Sender, body: new string('á', 71), client: host.Client);

        Assert.Equal(21617, error.Code);
        Assert.Equal("11", longest.NumSegments);
        Assert.Equal("2", spanish.NumSegments);
    }

    [Fact]
    public async Task Template_send_needs_no_body()
    {
        var message = await MessageResource.CreateAsync(
            to: new PhoneNumber("whatsapp:" + CarrierSimulatorHost.FictionalNumber(109)),
            from: new PhoneNumber("whatsapp:" + Sender),
            contentSid: "HX0123456789abcdef0123456789abcdef",
            contentVariables: "{\"1\":\"5th and Main\"}",
            client: host.Client);

        Assert.Null(message.Body);
        var stored = host.Carrier.Find(message.Sid);
        Assert.Equal("{\"1\":\"5th and Main\"}", stored?.ContentVariables);
    }

    [Fact]
    public async Task Read_filtered_by_To_and_DateSent_finds_the_sent_message()
    {
        var to = CarrierSimulatorHost.FictionalNumber(110);
        var before = DateTime.UtcNow.AddSeconds(-1);
        var other = await SendWithCallbackAsync(CarrierSimulatorHost.FictionalNumber(111));
        var message = await SendWithCallbackAsync(to);
        await CallbacksAsync(message.Sid, count: 2);
        await CallbacksAsync(other.Sid, count: 2);

        var found = await MessageResource.ReadAsync(
            new ReadMessageOptions { To = new PhoneNumber(to), DateSentAfter = before }, host.Client);
        var tomorrow = await MessageResource.ReadAsync(
            new ReadMessageOptions { To = new PhoneNumber(to), DateSentAfter = DateTime.UtcNow.AddDays(1) }, host.Client);
        var nobody = await MessageResource.ReadAsync(
            new ReadMessageOptions { To = new PhoneNumber(CarrierSimulatorHost.FictionalNumber(112)) }, host.Client);

        var listed = Assert.Single(found);
        Assert.Equal(message.Sid, listed.Sid);
        Assert.Equal(MessageResource.StatusEnum.Delivered, listed.Status);
        Assert.NotNull(listed.DateSent);
        Assert.Empty(tomorrow);
        Assert.Empty(nobody);
    }

    [Fact]
    public async Task Read_follows_next_page_uri_through_the_base_url_handler()
    {
        var to = CarrierSimulatorHost.FictionalNumber(114);
        var sids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            sids.Add((await MessageResource.CreateAsync(to: new PhoneNumber(to), from: Sender, body: $"part {i}", client: host.Client)).Sid);
        }

        var all = await MessageResource.ReadAsync(new ReadMessageOptions { To = new PhoneNumber(to), PageSize = 3 }, host.Client);

        // Newest first, as Twilio lists; three pages of 3, 3 and 1.
        Assert.Equal(Enumerable.Reverse(sids), all.Select(m => m.Sid));
    }

    [Fact]
    public async Task Fetch_returns_the_current_state_of_the_message()
    {
        var message = await SendWithCallbackAsync(CarrierSimulatorHost.FictionalNumber(115));
        await CallbacksAsync(message.Sid, count: 2);

        var fetched = await MessageResource.FetchAsync(message.Sid, client: host.Client);

        Assert.Equal(message.Sid, fetched.Sid);
        Assert.Equal(MessageResource.StatusEnum.Delivered, fetched.Status);
        Assert.NotNull(fetched.DateSent);
        Assert.True(fetched.DateUpdated >= fetched.DateCreated);
    }

    [Fact]
    public async Task Fetch_of_an_unknown_sid_is_ApiException_20404()
    {
        var error = await Assert.ThrowsAsync<ApiException>(
            () => MessageResource.FetchAsync("SM00000000000000000000000000000000", client: host.Client));

        Assert.Equal(20404, error.Code);
        Assert.Equal(404, error.Status);
    }

    [Fact]
    public async Task Dropped_connection_after_acceptance_is_ambiguous_and_Read_resolves_it()
    {
        var since = DateTime.UtcNow.AddSeconds(-1);

        await Assert.ThrowsAsync<ApiConnectionException>(
            () => SendWithCallbackAsync(DrillMagicNumbers.ConnectionDropsAfterAccept));

        Assert.Equal(1, host.Carrier.CountTo(DrillMagicNumbers.ConnectionDropsAfterAccept));
        var sid = host.Carrier.Messages.Single(m => m.To == DrillMagicNumbers.ConnectionDropsAfterAccept).Sid;
        await CallbacksAsync(sid, count: 2);
        var found = await MessageResource.ReadAsync(
            new ReadMessageOptions { To = new PhoneNumber(DrillMagicNumbers.ConnectionDropsAfterAccept), DateSentAfter = since },
            host.Client);
        Assert.Equal(sid, Assert.Single(found).Sid);
    }

    [Fact]
    public async Task Thousands_of_messages_each_get_both_callbacks()
    {
        const int messages = 2_000;
        var callbackUrl = host.StatusCallbackUrl("bulk");
        var next = -1;

        // 32 senders over one TwilioRestClient, the way the delivery workers share it.
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < messages)
            {
                await MessageResource.CreateAsync(
                    to: new PhoneNumber(CarrierSimulatorHost.FictionalNumber(150)),
                    from: Sender,
                    body: "Drill: all clear",
                    statusCallback: callbackUrl,
                    client: host.Client);
            }
        }));

        await Eventually.TrueAsync(
            () => host.Callbacks.Count(c => c.Query == "?delivery=bulk") == 2 * messages,
            TimeSpan.FromSeconds(60),
            "every message reported sent and delivered");
        Assert.Equal(messages, host.Carrier.CountTo(CarrierSimulatorHost.FictionalNumber(150)));
        Assert.Equal(
            messages,
            host.Callbacks.Where(c => c.Query == "?delivery=bulk" && c.Status == "delivered").Select(c => c.Fields["MessageSid"]).Distinct().Count());
    }

    private Task<MessageResource> SendWithCallbackAsync(string to, string? from = null) =>
        MessageResource.CreateAsync(
            to: new PhoneNumber(to),
            from: from is null ? Sender : new PhoneNumber(from),
            body: "Drill: agents reported at 5th and Main",
            statusCallback: host.StatusCallbackUrl(to),
            client: host.Client);

    private async Task<IReadOnlyList<ReceivedCallback>> CallbacksAsync(string messageSid, int count)
    {
        await Eventually.TrueAsync(
            () => host.CallbacksFor(messageSid).Count >= count, CallbackTimeout, $"{count} callbacks for {messageSid}");
        var callbacks = host.CallbacksFor(messageSid);
        Assert.Equal(count, callbacks.Count);
        return callbacks;
    }
}
