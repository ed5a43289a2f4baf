using System.Collections.Concurrent;
using AlertNet.Infrastructure.Twilio;
using AlertNet.Infrastructure.Twilio.Drill;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Twilio.Clients;
using SdkHttpClient = Twilio.Http.SystemNetHttpClient;

namespace AlertNet.Tests.Infrastructure.Twilio.Drill;

/// <summary>
/// A Kestrel host on a free loopback port serving the carrier simulator and a status webhook that records what
/// the "carrier" posts back; tests drive it with the real Twilio SDK.
/// </summary>
public class CarrierSimulatorHost : IAsyncLifetime
{
    public const string AccountSid = "AC0123456789abcdef0123456789abcdef";
    public const string AuthToken = "drill-test-auth-token-0123456789ab";
    public const string Prefix = "/drill/twilio";

    private readonly List<HttpClient> _httpClients = [];
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    public TwilioRestClient Client { get; private set; } = null!;

    public CarrierSimulator Carrier => Services.GetRequiredService<CarrierSimulator>();

    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The host has not started.");

    public ConcurrentQueue<ReceivedCallback> Callbacks { get; } = new();

    /// <summary>Numbers from the 555-0100..0199 range that is reserved for fiction.</summary>
    public static string FictionalNumber(int lastFour) =>
        lastFour is >= 100 and <= 199
            ? $"+1202555{lastFour:0000}"
            : throw new ArgumentOutOfRangeException(nameof(lastFour), "Use 0100 to 0199.");

    public Uri StatusCallbackUrl(string tag) => new(BaseAddress, $"callbacks/status?delivery={Uri.EscapeDataString(tag)}");

    public IReadOnlyList<ReceivedCallback> CallbacksFor(string messageSid) =>
        Callbacks.Where(c => c.Fields.GetValueOrDefault("MessageSid") == messageSid).ToList();

    public TwilioRestClient ClientFor(string accountSid, string authToken)
    {
        var httpClient = new HttpClient(new TwilioApiBaseUrlHandler(new Uri(BaseAddress, Prefix.TrimStart('/')))
        {
            InnerHandler = new SocketsHttpHandler { AllowAutoRedirect = false },
        });
        _httpClients.Add(httpClient);
        return new TwilioRestClient(accountSid, authToken, httpClient: new SdkHttpClient(httpClient));
    }

    protected virtual void Configure(CarrierSimulatorOptions options)
    {
    }

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddCarrierSimulator(options =>
        {
            options.AccountSid = AccountSid;
            options.AuthToken = AuthToken;
            Configure(options);
        });

        _app = builder.Build();
        _app.MapCarrierSimulator(Prefix);
        _app.MapPost("/callbacks/status", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            Callbacks.Enqueue(new ReceivedCallback(
                request.QueryString.Value ?? "",
                form.ToDictionary(field => field.Key, field => field.Value.ToString(), StringComparer.Ordinal),
                request.Headers["X-Twilio-Signature"].ToString()));
            return Results.NoContent();
        });

        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.Single().TrimEnd('/') + "/");
        Client = ClientFor(AccountSid, AuthToken);
    }

    public async Task DisposeAsync()
    {
        foreach (var httpClient in _httpClients)
        {
            httpClient.Dispose();
        }

        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

/// <summary>A carrier that never gets round to sending, to look at messages while Twilio still has them queued.</summary>
public sealed class StalledCarrierSimulatorHost : CarrierSimulatorHost
{
    protected override void Configure(CarrierSimulatorOptions options) => options.SentDelay = TimeSpan.FromHours(1);
}

public sealed record ReceivedCallback(string Query, IReadOnlyDictionary<string, string> Fields, string Signature)
{
    public string Status => Fields.GetValueOrDefault("MessageStatus") ?? "";
}
