using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;

namespace AlertNet.Benchmarks;

/// <summary>The emulator child process, seen from the benchmark: its Twilio API base URL and the
/// <c>/bench/*</c> endpoints.</summary>
internal sealed class EmulatorProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly HttpClient _http;

    private EmulatorProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
        // Infinite: the long-poll endpoint has its own timeout, and every call below runs under a phase's token.
        _http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Status callbacks the emulator posts at once. Twilio posts them at the pace messages progress (two per
    /// message within a second or so), not 16 at a time as the drill simulator does by default: with 64, the callback
    /// storm reaches AlertNet while it is still sending, as it would in production, instead of queueing at the carrier.</summary>
    public const int CallbackConcurrency = 64;

    /// <summary>What AlertNet's Twilio:ApiBaseUrl points at.</summary>
    public string BaseUrl { get; }

    public int ProcessId => _process.Id;

    /// <summary>Starts the emulator; <paramref name="faults"/> (e.g. "429=10,500=2,timeout=1,reset=1", see
    /// CarrierFaults) makes it misbehave as Twilio sometimes does, the same way for the same seed.</summary>
    public static async Task<EmulatorProcess> StartAsync(FakeTwilioAccount account, CancellationToken cancellationToken,
        string? faults = null, int faultSeed = 0)
    {
        var port = ChildProcesses.FreeLoopbackPort();
        string[] faultArguments = faults is null ? [] : ["--faults", faults, "--fault-seed", faultSeed.ToString(CultureInfo.InvariantCulture)];
        var start = ChildProcesses.Self(["emulator", "--port", port.ToString(CultureInfo.InvariantCulture),
            "--callback-concurrency", CallbackConcurrency.ToString(CultureInfo.InvariantCulture), .. faultArguments]);
        start.Environment[Emulator.AccountSidVariable] = account.AccountSid;
        start.Environment[Emulator.AuthTokenVariable] = account.AuthToken;
        var emulator = new EmulatorProcess(ChildProcesses.Start(start, "[emulator]", "emulator process"), $"http://127.0.0.1:{port}");

        using var ready = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ready.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            try
            {
                await emulator.CheckClockAsync(ready.Token);
                return emulator;
            }
            catch (HttpRequestException) when (!emulator._process.HasExited)
            {
                await Task.Delay(100, ready.Token);
            }
        }
    }

    /// <summary>Checks that the emulator's Stopwatch timestamps are on our clock: its "now" must fall
    /// between ours before and after the request. Returns the round trip.</summary>
    public async Task<TimeSpan> CheckClockAsync(CancellationToken cancellationToken)
    {
        var before = Stopwatch.GetTimestamp();
        var theirs = await _http.GetFromJsonAsync<long>("/bench/now", cancellationToken);
        var after = Stopwatch.GetTimestamp();
        if (theirs < before || theirs > after)
        {
            throw new InvalidOperationException("The emulator's monotonic clock differs from ours; latency figures would be wrong.");
        }

        return Stopwatch.GetElapsedTime(before, after);
    }

    public async Task<EmulatorStats> StatsAsync(CancellationToken cancellationToken) =>
        await _http.GetFromJsonAsync<EmulatorStats>("/bench/stats", cancellationToken)
        ?? throw new InvalidOperationException("No stats from the emulator.");

    /// <summary>Messages accepted per recipient (To address) since the last reset.</summary>
    public async Task<Dictionary<string, int>> RecipientCountsAsync(CancellationToken cancellationToken) =>
        await _http.GetFromJsonAsync<Dictionary<string, int>>("/bench/recipients", cancellationToken)
        ?? throw new InvalidOperationException("No recipient counts from the emulator.");

    /// <summary>Texts <paramref name="body"/> from <paramref name="from"/> to AlertNet's inbound webhook through the
    /// emulator, as a phone would; returns the webhook's HTTP status.</summary>
    public async Task<int> TextAsync(string from, string body, string webhookUrl, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync("/bench/text", new HandsetTextRequest(from, body, webhookUrl), cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<int>(cancellationToken);
    }

    /// <summary>Message records the emulator still holds, by direction.</summary>
    public async Task<Dictionary<string, int>> HeldAsync(CancellationToken cancellationToken) =>
        await _http.GetFromJsonAsync<Dictionary<string, int>>("/bench/held", cancellationToken)
        ?? throw new InvalidOperationException("No held counts from the emulator.");

    public async Task ResetAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsync("/bench/reset", null, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The Stopwatch timestamp at which the first create request carrying the marker arrived,
    /// or null when none arrived within the timeout.</summary>
    public async Task<long?> WaitForMarkAsync(string marker, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(
            $"/bench/mark/{Uri.EscapeDataString(marker)}?timeoutMs={(int)timeout.TotalMilliseconds}", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<long>(cancellationToken);
    }

    /// <summary>Waits until every accepted message has had its two callbacks (sent, delivered) posted or
    /// given up, so that one phase's callback storm does not run into the next phase's measurement.
    /// Returns how long that took, or null when it did not finish within the timeout.</summary>
    public async Task<TimeSpan?> WaitForCallbacksAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < timeout)
        {
            var stats = await StatsAsync(cancellationToken);
            if (stats.CallbacksPosted + stats.CallbacksFailed >= 2 * stats.CreateRequests)
            {
                return Stopwatch.GetElapsedTime(started);
            }

            await Task.Delay(200, cancellationToken);
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await ChildProcesses.StopAsync(_process, TimeSpan.FromSeconds(5));
    }
}

/// <summary>Made-up Twilio credentials: the emulator accepts exactly these, and AlertNet runs in live mode with them.</summary>
internal sealed record FakeTwilioAccount(string AccountSid, string AuthToken, string From)
{
    public static FakeTwilioAccount Create() => new(
        "AC" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
        Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
        // Twilio's magic "valid sender" test number.
        "+15005550006");
}
