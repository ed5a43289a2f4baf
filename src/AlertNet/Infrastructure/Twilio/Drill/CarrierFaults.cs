using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace AlertNet.Infrastructure.Twilio.Drill;

/// <summary>
/// Faults the carrier simulator injects into create-message requests, for chaos runs and tests: Twilio's own
/// bad days (429, 5xx, an answer that never comes, a connection reset). All zero by default: a drill never
/// sees them unless they are configured. Whether a request gets a fault depends only on the seed, the To
/// address and how many requests for that address came before, so a run can be replayed whatever the timing.
/// </summary>
public sealed class CarrierFaults
{
    /// <summary>Percent of requests answered HTTP 429 with code 20429, before acceptance.</summary>
    [Range(0, 100)]
    public double TooManyRequestsPercent { get; set; }

    /// <summary>Percent of requests answered HTTP 500 with code 20500, before acceptance.</summary>
    [Range(0, 100)]
    public double ServerErrorPercent { get; set; }

    /// <summary>Percent of requests accepted (the message goes out and its callbacks come) whose answer never
    /// comes: the request is held until the client gives up, as when Twilio's answer is lost.</summary>
    [Range(0, 100)]
    public double TimeoutAfterAcceptPercent { get; set; }

    /// <summary>Percent of requests whose connection is reset before the message is accepted.</summary>
    [Range(0, 100)]
    public double ConnectionResetPercent { get; set; }

    public int Seed { get; set; }

    /// <summary>The longest a "timeout" request is held if the client never gives up.</summary>
    public TimeSpan TimeoutHold { get; set; } = TimeSpan.FromSeconds(60);

    public bool Any => TooManyRequestsPercent + ServerErrorPercent + TimeoutAfterAcceptPercent + ConnectionResetPercent > 0;

    public bool IsValid =>
        TooManyRequestsPercent >= 0 && ServerErrorPercent >= 0 && TimeoutAfterAcceptPercent >= 0 && ConnectionResetPercent >= 0
        && TooManyRequestsPercent + ServerErrorPercent + TimeoutAfterAcceptPercent + ConnectionResetPercent <= 100
        && TimeoutHold > TimeSpan.Zero;

    /// <summary>The fault for the <paramref name="attempt"/>-th request (0-based) to <paramref name="to"/>.</summary>
    public CarrierFault Pick(string to, long attempt)
    {
        if (!Any)
        {
            return CarrierFault.None;
        }

        var draw = UnitInterval(Seed, to, attempt) * 100;
        return (draw -= TooManyRequestsPercent) < 0 ? CarrierFault.TooManyRequests
            : (draw -= ServerErrorPercent) < 0 ? CarrierFault.ServerError
            : (draw -= TimeoutAfterAcceptPercent) < 0 ? CarrierFault.TimeoutAfterAccept
            : (draw - ConnectionResetPercent) < 0 ? CarrierFault.ConnectionReset
            : CarrierFault.None;
    }

    /// <summary>"429=10,500=2,timeout=1,reset=1" (percentages), the form the chaos command takes.</summary>
    public static CarrierFaults Parse(string spec, int seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var faults = new CarrierFaults { Seed = seed };
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pair = part.Split('=', 2);
            if (pair.Length != 2 || !double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent))
            {
                throw new FormatException($"Fault '{part}': expected NAME=PERCENT (429, 500, timeout, reset).");
            }

            switch (pair[0])
            {
                case "429": faults.TooManyRequestsPercent = percent; break;
                case "500": faults.ServerErrorPercent = percent; break;
                case "timeout": faults.TimeoutAfterAcceptPercent = percent; break;
                case "reset": faults.ConnectionResetPercent = percent; break;
                default: throw new FormatException($"Unknown fault '{pair[0]}': use 429, 500, timeout or reset.");
            }
        }

        return faults.IsValid ? faults : throw new FormatException("Fault percentages must be 0 to 100 and add up to at most 100.");
    }

    // SplitMix64 over the seed, a stable hash of the address (string.GetHashCode differs per process) and the
    // attempt: cheap, well mixed, and the same in every process and run.
    private static double UnitInterval(int seed, string to, long attempt)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in to)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        var x = hash ^ ((ulong)(uint)seed << 32) ^ (ulong)attempt * 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return (x >> 11) * (1.0 / (1UL << 53));
    }
}

public enum CarrierFault
{
    None,
    TooManyRequests,
    ServerError,
    TimeoutAfterAccept,
    ConnectionReset,
}
