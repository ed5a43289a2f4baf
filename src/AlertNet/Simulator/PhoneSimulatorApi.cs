using System.Xml;
using System.Xml.Linq;
using AlertNet.Hosting;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio;
using AlertNet.Infrastructure.Twilio.Drill;
using AlertNet.Privacy;
using Microsoft.Extensions.Options;

namespace AlertNet.Simulator;

public sealed record SimulatedText(string? Number, string? Body);

public sealed record SimulatedPhone(string? Number);

/// <summary>One line of the simulated phone's thread: "sent" (typed on the phone), "reply" (AlertNet's TwiML answer)
/// or "received" (a message the drill carrier accepted for this number, with its carrier status).</summary>
public sealed record PhoneLine(string Kind, string Text, DateTimeOffset At, string? Status = null);

/// <summary>The drill-mode phone simulator's API (mapped only in drill mode). A text typed on the page goes to AlertNet
/// the way Twilio would deliver it: a form signed with the (drill) auth token, posted over HTTP to the public
/// /webhooks/twilio/inbound, so the signature check and keyword handling are the production ones. The number travels
/// in POST bodies, never in an address that request logs would keep.</summary>
public static class PhoneSimulatorApi
{
    public const string HttpClientName = "phone-simulator";
    public const int MaxMessages = 50;

    public static IServiceCollection AddPhoneSimulator(this IServiceCollection services)
    {
        services.AddHttpClient(HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        return services;
    }

    public static void MapPhoneSimulator(this IEndpointRouteBuilder app)
    {
        if (!app.ServiceProvider.GetRequiredService<TwilioSettings>().IsDrill)
        {
            return;
        }

        var api = app.MapGroup("/api/drill/phone").RequireAuthorization(Policies.Watch);
        api.MapPost("/text", TextAsync);
        api.MapPost("/messages", Messages);
    }

    private static async Task<IResult> TextAsync(SimulatedText? request, TwilioSettings twilio, IOptions<AlertNetOptions> options,
        IHttpClientFactory httpClients, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Parse(request?.Number, options.Value) is not { } from)
        {
            return BadNumber();
        }

        if (string.IsNullOrWhiteSpace(request!.Body) || request.Body.Length > Delivery.SmsSegments.MaxBodyLength)
        {
            return Results.Problem($"body must be 1 to {Delivery.SmsSegments.MaxBodyLength} characters.", statusCode: StatusCodes.Status400BadRequest);
        }

        var sentAt = time.GetUtcNow();
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["MessageSid"] = "SM" + Guid.NewGuid().ToString("N"),
            ["AccountSid"] = twilio.AccountSid,
            ["From"] = from,
            ["To"] = twilio.From ?? TwilioSettings.DrillFrom,
            ["Body"] = request.Body,
            ["NumMedia"] = "0",
        };
        var url = options.Value.PublicBaseUrl.TrimEnd('/') + "/webhooks/twilio/inbound";
        using var post = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(fields) };
        post.Headers.Add("X-Twilio-Signature", TwilioSignature.Compute(twilio.AuthToken, url, fields));
        XDocument twiml;
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(post, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return Results.Problem($"The inbound webhook answered {(int)response.StatusCode}.", statusCode: StatusCodes.Status502BadGateway);
            }

            twiml = XDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        }
        catch (Exception error) when ((error is HttpRequestException or XmlException or TaskCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            // AlertNet:PublicBaseUrl must reach this process, as it must for the drill carrier's status callbacks.
            return Results.Problem($"The inbound webhook at AlertNet:PublicBaseUrl did not answer with TwiML ({error.GetType().Name}).",
                statusCode: StatusCodes.Status502BadGateway);
        }

        var replyAt = time.GetUtcNow();
        var lines = new List<PhoneLine> { new("sent", request.Body, sentAt) };
        // Each <Message> of the TwiML is a text Twilio would send back; an empty <Response/> is silence.
        lines.AddRange(twiml.Root?.Elements("Message").Select(m => new PhoneLine("reply", m.Value, replyAt)) ?? []);
        return Results.Ok(new { lines });
    }

    private static IResult Messages(SimulatedPhone? request, TwilioSettings twilio, IOptions<AlertNetOptions> options, CarrierSimulator carrier)
    {
        if (Parse(request?.Number, options.Value) is not { } to)
        {
            return BadNumber();
        }

        var messages = carrier.Query(twilio.AccountSid, to, from: null, sentFilter: static _ => true)
            .Take(MaxMessages)
            .Reverse()
            .Select(m => new PhoneLine("received", m.Body ?? "", m.DateCreated, m.Status));
        return Results.Ok(new { lines = messages });
    }

    private static string? Parse(string? number, AlertNetOptions options) =>
        SubscriberAddress.TryParse(number, options.DefaultRegion) is { Channel: SubscriberAddress.Sms } address ? address.E164 : null;

    private static IResult BadNumber() =>
        Results.Problem("number must be a phone number, such as +12025550100.", statusCode: StatusCodes.Status400BadRequest);
}
