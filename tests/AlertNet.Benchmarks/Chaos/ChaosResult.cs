namespace AlertNet.Benchmarks.Chaos;

/// <summary>What one scenario found: per recipient, what the emulator received.</summary>
internal sealed record ChaosResult(
    string Title,
    int Recipients,
    long Received,
    int Lost,
    long Duplicated,
    long Unexpected,
    TimeSpan? TimeToCompletion,
    string Notes)
{
    public string LoadBefore { get; init; } = "?";

    /// <summary>What went wrong besides lost and duplicated messages (a process that exited when none should).</summary>
    public string? Failure { get; init; }

    /// <summary>Outage scenarios: from the carrier's return until every delivery had settled.</summary>
    public TimeSpan? Recovery { get; init; }

    public bool Met => TimeToCompletion is not null && Lost == 0 && Duplicated == 0 && Unexpected == 0 && Failure is null;

    public string Summary => TimeToCompletion is { } time
        ? $"{Format.Count(Recipients)} recipients, {Format.Count(Received)} messages received, {Lost} lost, {Duplicated} duplicated, "
          + $"completed in {Format.Seconds(time)}{(Recovery is { } recovery ? $", {Format.Seconds(recovery)} after recovery" : "")}"
          + $"{(Failure is null ? "" : $"; {Failure}")}: {(Met ? "target met" : "TARGET MISSED")}"
        : $"{Format.Count(Recipients)} recipients: {Notes}";

    public static ChaosResult Unfinished(string title, int recipients, string why) => new(title, recipients, 0, 0, 0, 0, null, why);

    public static ChaosResult From(string title, IReadOnlyList<string> numbers, Dictionary<string, int> counts, TimeSpan completed,
        string troubleNote, EmulatorStats stats, Dictionary<string, long> states, int alertsPerRecipient = 1)
    {
        // Lost: messages missing (a recipient short of one of the alerts); duplicated: messages beyond the alerts' number.
        var expected = numbers.ToHashSet(StringComparer.Ordinal);
        var received = numbers.Sum(n => (long)counts.GetValueOrDefault(n));
        var lost = numbers.Sum(n => Math.Max(0, alertsPerRecipient - counts.GetValueOrDefault(n)));
        var duplicated = numbers.Sum(n => (long)Math.Max(0, counts.GetValueOrDefault(n) - alertsPerRecipient));
        var unexpected = counts.Where(c => !expected.Contains(c.Key)).Sum(c => (long)c.Value);
        var faults = stats.Faults is { } injected && injected.Values.Any(v => v > 0)
            ? "; faults injected: " + string.Join(", ", injected.Where(f => f.Value > 0).Select(f => $"{f.Key} {Format.Count(f.Value)}"))
            : "";
        var notes = $"{troubleNote}; {Format.Count(stats.CreateRequests)} create requests at the emulator{faults}; "
            + "AlertNet's deliveries: " + string.Join(", ", states.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} {Format.Count(s.Value)}"));
        return new ChaosResult(title, numbers.Count, received, lost, duplicated, unexpected, completed, notes);
    }
}
