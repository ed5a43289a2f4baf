using AlertNet.Infrastructure.Twilio.Drill;

namespace AlertNet.Tests.Infrastructure.Twilio.Drill;

public sealed class CarrierFaultsTests
{
    [Fact]
    public void No_faults_are_configured_by_default()
    {
        var faults = new CarrierSimulatorOptions().Faults;

        Assert.False(faults.Any);
        Assert.Equal(CarrierFault.None, faults.Pick("+12025550100", 0));
    }

    [Fact]
    public void The_same_seed_recipient_and_attempt_always_get_the_same_fault()
    {
        var first = CarrierFaults.Parse("429=10,500=2,timeout=1,reset=1", seed: 42);
        var second = CarrierFaults.Parse("429=10,500=2,timeout=1,reset=1", seed: 42);
        var other = CarrierFaults.Parse("429=10,500=2,timeout=1,reset=1", seed: 43);
        var draws = Enumerable.Range(0, 2000).Select(i => ($"+1202555{i % 1000:D4}", (long)(i / 1000))).ToList();

        Assert.Equal(draws.Select(d => first.Pick(d.Item1, d.Item2)), draws.Select(d => second.Pick(d.Item1, d.Item2)));
        Assert.NotEqual(draws.Select(d => first.Pick(d.Item1, d.Item2)), draws.Select(d => other.Pick(d.Item1, d.Item2)));
    }

    [Fact]
    public void Faults_come_at_the_configured_rates()
    {
        var faults = CarrierFaults.Parse("429=10,500=2,timeout=1,reset=1", seed: 1);
        const int draws = 200_000;
        var counts = Enumerable.Range(0, draws)
            .Select(i => faults.Pick($"+1202{i:D7}", i % 3))
            .GroupBy(f => f)
            .ToDictionary(g => g.Key, g => g.Count() * 100.0 / draws);

        Assert.InRange(counts[CarrierFault.TooManyRequests], 9.6, 10.4);
        Assert.InRange(counts[CarrierFault.ServerError], 1.8, 2.2);
        Assert.InRange(counts[CarrierFault.TimeoutAfterAccept], 0.85, 1.15);
        Assert.InRange(counts[CarrierFault.ConnectionReset], 0.85, 1.15);
    }

    [Theory]
    [InlineData("429=ten")]
    [InlineData("418=5")]
    [InlineData("429=60,500=50")]
    [InlineData("reset=-1")]
    public void A_fault_specification_that_makes_no_sense_is_refused(string spec) =>
        Assert.Throws<FormatException>(() => CarrierFaults.Parse(spec, seed: 0));
}
