using System.Globalization;

namespace AlertNet.Benchmarks;

/// <summary>
/// The "what limits it" line of a missed target, written from what the run observed (PostgreSQL wait events,
/// CPU taken by other processes) followed by what the engine's design suggests would move it. The observations
/// keep the line true as the engine changes; the suggestion is marked for the lead to check.
/// </summary>
internal static class Diagnosis
{
    public static string Limit(WaitProfile? waits, double othersPercent, string wouldMoveIt)
    {
        var observed = new List<string>();
        if (waits is { CommitFlush: >= 0.3 })
        {
            observed.Add($"PostgreSQL sessions spent {Percent(waits.CommitFlush)} of their time waiting for the WAL flush at " +
                         "commit, i.e. on the number of small transactions rather than on work");
        }

        if (waits is { Cpu: >= 0.5 })
        {
            observed.Add($"PostgreSQL sessions were running or waiting for a core {Percent(waits.Cpu)} of the time");
        }

        if (waits is { Statements: [var (statement, share), ..] } && share >= 0.25)
        {
            observed.Add($"the busiest statement was `{statement}…` ({Percent(share)} of the sessions' time)");
        }

        if (othersPercent >= 25)
        {
            observed.Add($"other processes on the machine took {othersPercent.ToString("0", CultureInfo.InvariantCulture)} % of a core " +
                         "on average meanwhile, so on a quiet machine the figure would be better");
        }

        var seen = observed.Count > 0 ? "Observed: " + string.Join("; ", observed) + ". " : "";
        return seen + wouldMoveIt + " TODO(lead): confirm with a profile.";
    }

    private static string Percent(double share) => (100 * share).ToString("0", CultureInfo.InvariantCulture) + " %";
}
