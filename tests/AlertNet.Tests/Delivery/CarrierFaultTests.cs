using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio.Drill;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Delivery;

/// <summary>The carrier misbehaving as Twilio sometimes does, while a web process and three worker processes send
/// an alert (the test-sized version of the chaos command's third scenario): 429s, 500s, answers that never come
/// after the message was accepted, and connection resets.</summary>
public sealed class CarrierFaultTests : IAsyncLifetime
{
    private AlertNetTestApp _web = null!;

    public async Task InitializeAsync() => _web = await AlertNetTestApp.StartAsync(role: "web", new Dictionary<string, string?>
    {
        // The chaos command's rates, with a fixed seed: the same recipients get the same faults on every run.
        ["Twilio:DrillFaults:TooManyRequestsPercent"] = "10",
        ["Twilio:DrillFaults:ServerErrorPercent"] = "2",
        ["Twilio:DrillFaults:TimeoutAfterAcceptPercent"] = "1",
        ["Twilio:DrillFaults:ConnectionResetPercent"] = "1",
        ["Twilio:DrillFaults:Seed"] = "7",
        // A held request costs its sender this long before it is reconciled.
        ["Twilio:RequestTimeoutSeconds"] = "2",
        ["Delivery:ClaimLeaseSeconds"] = "5",
        ["Delivery:SweepIntervalSeconds"] = "1",
        ["Delivery:StallSeconds"] = "2",
        ["Delivery:StatusCheckSeconds"] = "3",
    });

    public async Task DisposeAsync() => await _web.DisposeAsync();

    [Fact]
    public async Task A_carrier_answering_429_500_nothing_or_a_reset_still_gets_each_recipient_exactly_one_message()
    {
        var numbers = AlertNetTestApp.Numbers(300);
        await _web.JoinAllAsync(numbers);
        for (var i = 0; i < 3; i++)
        {
            _web.StartWorkerProcess();
        }

        await _web.WaitForWorkerProcessesAsync(3);
        var organizer = await _web.ClientWithRoleAsync(Roles.Organizer);

        var id = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Raid reported" } });
        var alert = await AlertNetTestApp.WaitUntilSettledAsync(organizer, id, numbers.Length, TimeSpan.FromSeconds(150));

        // Every kind of fault really happened (with this seed and these numbers), so the counts below mean something.
        Assert.All(_web.Carrier.FaultsInjected.Where(f => f.Key != CarrierFault.None), fault => Assert.True(fault.Value > 0, $"no {fault.Key}"));
        Assert.Equal(numbers.Length, alert.GetProperty("counts").GetProperty("delivered").GetInt32());
        Assert.All(numbers, number => Assert.Equal(1, _web.Carrier.AlertCountTo(number)));
    }
}
