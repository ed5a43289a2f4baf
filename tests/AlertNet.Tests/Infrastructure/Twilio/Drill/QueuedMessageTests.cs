using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;

namespace AlertNet.Tests.Infrastructure.Twilio.Drill;

public class QueuedMessageTests(StalledCarrierSimulatorHost host) : IClassFixture<StalledCarrierSimulatorHost>
{
    [Fact]
    public async Task Queued_message_is_listed_by_To_but_matches_no_DateSent_filter()
    {
        var to = new PhoneNumber(CarrierSimulatorHost.FictionalNumber(120));
        var message = await MessageResource.CreateAsync(
            to: to,
            from: new PhoneNumber(CarrierSimulatorHost.FictionalNumber(199)),
            body: "still at the carrier",
            statusCallback: host.StatusCallbackUrl("queued"),
            client: host.Client);

        var byTo = await MessageResource.ReadAsync(new ReadMessageOptions { To = to }, host.Client);
        var sinceYesterday = await MessageResource.ReadAsync(
            new ReadMessageOptions { To = to, DateSentAfter = DateTime.UtcNow.AddDays(-1) }, host.Client);
        var fetched = await MessageResource.FetchAsync(message.Sid, client: host.Client);

        var listed = Assert.Single(byTo);
        Assert.Equal(message.Sid, listed.Sid);
        Assert.Equal(MessageResource.StatusEnum.Queued, listed.Status);
        Assert.Null(listed.DateSent);
        Assert.Empty(sinceYesterday);
        Assert.Equal(MessageResource.StatusEnum.Queued, fetched.Status);
        Assert.Empty(host.Callbacks);
    }
}
