using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using AlertNet.Infrastructure.Twilio.Drill;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AlertNet.Benchmarks;

/// <summary>
/// The Twilio-compatible emulator, run in its own process (<c>AlertNet.Benchmarks emulator --port N</c>):
/// AlertNet's drill CarrierSimulator on Kestrel at 127.0.0.1, answering the Twilio SDK's Messages API and
/// posting signed status callbacks to whatever StatusCallback URL each message carries. A few
/// <c>/bench/*</c> endpoints let the benchmark read what only the carrier knows: when a request arrived.
/// </summary>
internal static class Emulator
{
    public const string AccountSidVariable = "ALERTNET_BENCH_EMULATOR_ACCOUNT_SID";
    public const string AuthTokenVariable = "ALERTNET_BENCH_EMULATOR_AUTH_TOKEN";

    /// <summary>Urgent alert bodies carry "[bench:NAME]"; the emulator notes when the first request with
    /// each name arrived.</summary>
    public const string MarkerPrefix = "[bench:";

    public static async Task<int> RunAsync(string[] args)
    {
        var portIndex = Array.IndexOf(args, "--port");
        if (portIndex < 0 || portIndex + 1 >= args.Length
            || !int.TryParse(args[portIndex + 1], CultureInfo.InvariantCulture, out var port))
        {
            await Console.Error.WriteLineAsync("usage: AlertNet.Benchmarks emulator --port N");
            return 2;
        }

        var concurrencyIndex = Array.IndexOf(args, "--callback-concurrency");
        var callbackConcurrency = concurrencyIndex >= 0 && concurrencyIndex + 1 < args.Length
            ? int.Parse(args[concurrencyIndex + 1], CultureInfo.InvariantCulture)
            : 16;
        // Chaos runs: "--faults 429=10,500=2,timeout=1,reset=1 --fault-seed 42" (see CarrierFaults); none by default.
        var faultsIndex = Array.IndexOf(args, "--faults");
        var seedIndex = Array.IndexOf(args, "--fault-seed");
        var faults = faultsIndex >= 0 && faultsIndex + 1 < args.Length
            ? CarrierFaults.Parse(args[faultsIndex + 1],
                seedIndex >= 0 && seedIndex + 1 < args.Length ? int.Parse(args[seedIndex + 1], CultureInfo.InvariantCulture) : 0)
            : new CarrierFaults();
        var accountSid = Environment.GetEnvironmentVariable(AccountSidVariable);
        var authToken = Environment.GetEnvironmentVariable(AuthTokenVariable);
        if (string.IsNullOrEmpty(accountSid) || string.IsNullOrEmpty(authToken))
        {
            await Console.Error.WriteLineAsync($"emulator: set {AccountSidVariable} and {AuthTokenVariable}");
            return 2;
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        // Warnings only: a line per request or callback would cost more CPU than the carrier itself.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        builder.Services.AddCarrierSimulator(simulator =>
        {
            simulator.AccountSid = accountSid;
            simulator.AuthToken = authToken;
            // Twilio never makes its API wait for callbacks. With the default queue (100,000) a 1M send would
            // block the API whenever AlertNet ingests callbacks slower than it sends, and the dispatch figure
            // would measure the callback path instead.
            simulator.CallbackQueueCapacity = 4_000_000;
            simulator.MaxConcurrentCallbacks = callbackConcurrency;
            simulator.Faults = faults;
        });
        builder.Services.AddSingleton<ArrivalMarks>();

        var app = builder.Build();
        app.Use(RecordMarkersAsync);
        app.MapCarrierSimulator("");
        MapBenchEndpoints(app);

        // The benchmark holds our stdin open; when it goes away (even killed), stdin ends and so do we.
        _ = Task.Run(async () =>
        {
            await Console.In.ReadToEndAsync();
            app.Lifetime.StopApplication();
        });

        await app.RunAsync();
        return 0;
    }

    /// <summary>Notes the arrival time of each create request whose Body carries a marker. The time is taken
    /// before the endpoint runs, so it is the request's arrival; the marker is read after, from the form the
    /// endpoint has already parsed, so the API's own work is not slowed by a second parse.</summary>
    private static async Task RecordMarkersAsync(HttpContext context, RequestDelegate next)
    {
        var arrived = Stopwatch.GetTimestamp();
        await next(context);
        if (!HttpMethods.IsPost(context.Request.Method) || context.Features.Get<IFormFeature>()?.Form is not { } form)
        {
            return;
        }

        var body = form["Body"].ToString();
        var start = body.IndexOf(MarkerPrefix, StringComparison.Ordinal);
        var end = start < 0 ? -1 : body.IndexOf(']', start);
        if (end > start)
        {
            context.RequestServices.GetRequiredService<ArrivalMarks>().Record(body[(start + MarkerPrefix.Length)..end], arrived);
        }
    }

    private static void MapBenchEndpoints(WebApplication app)
    {
        // Stopwatch timestamps are CLOCK_MONOTONIC on Linux, one clock for every process on the machine: the
        // benchmark compares its trigger time with our arrival time directly. /bench/now lets it check that.
        app.MapGet("/bench/now", () => Stopwatch.GetTimestamp());

        app.MapGet("/bench/stats", (CarrierSimulator carrier) =>
            new EmulatorStats(carrier.CreateRequests, carrier.CallbacksPosted, carrier.CallbacksFailed, Environment.WorkingSet,
                carrier.FaultsInjected.ToDictionary(f => f.Key.ToString(), f => f.Value, StringComparer.Ordinal)));

        // What each recipient received: the number of accepted messages per To address.
        app.MapGet("/bench/recipients", (CarrierSimulator carrier) => carrier.CountsByRecipient);

        // Between phases: forget every message (memory) and counter, so each phase's counts are its own.
        app.MapPost("/bench/reset", (CarrierSimulator carrier, ArrivalMarks marks) =>
        {
            carrier.Reset();
            marks.Clear();
            return Results.NoContent();
        });

        // A phone texting the service: the text becomes an inbound record here (as at Twilio) and is posted, signed, to
        // AlertNet's inbound webhook. Answers the webhook's HTTP status.
        app.MapPost("/bench/text", async (HandsetTextRequest text, SimulatedHandsets handsets, CancellationToken cancellationToken) =>
            (await handsets.TextAsync(text.From, text.Body, webhookUrl: text.WebhookUrl, cancellationToken: cancellationToken)).WebhookStatus);

        // The message records this carrier still holds (not deleted through the API), by direction: what a subpoena
        // to the provider would find.
        app.MapGet("/bench/held", (CarrierSimulator carrier) =>
            carrier.Held.GroupBy(m => m.Direction, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal));

        // Long poll: answers as soon as the first request carrying the marker has arrived (its timestamp), or
        // 404 after timeoutMs. One waiting request instead of a poll loop keeps the benchmark's own load low.
        app.MapGet("/bench/mark/{marker}", async (string marker, int timeoutMs, ArrivalMarks marks, CancellationToken cancellationToken) =>
        {
            var arrival = marks.For(marker);
            var finished = await Task.WhenAny(arrival, Task.Delay(timeoutMs, cancellationToken));
            return finished == arrival ? Results.Ok(await arrival) : Results.NotFound();
        });
    }

    /// <summary>First arrival per marker.</summary>
    private sealed class ArrivalMarks
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> _marks = new(StringComparer.Ordinal);

        public Task<long> For(string marker) => Get(marker).Task;

        public void Record(string marker, long timestamp) => Get(marker).TrySetResult(timestamp);

        public void Clear() => _marks.Clear();

        private TaskCompletionSource<long> Get(string marker) =>
            _marks.GetOrAdd(marker, static _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}

/// <summary>A text from <see cref="From"/> to the service, posted to <see cref="WebhookUrl"/>.</summary>
internal sealed record HandsetTextRequest(string From, string Body, string WebhookUrl);

/// <summary>The emulator's counters since its last reset.</summary>
internal sealed record EmulatorStats(long CreateRequests, long CallbacksPosted, long CallbacksFailed, long WorkingSet,
    IReadOnlyDictionary<string, long>? Faults = null);
