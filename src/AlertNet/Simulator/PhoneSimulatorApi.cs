using AlertNet.Hosting;
using AlertNet.Infrastructure.Auth;
using AlertNet.Infrastructure.Twilio;
using AlertNet.Infrastructure.Twilio.Drill;
using AlertNet.Privacy;
using Microsoft.Extensions.Options;

namespace AlertNet.Simulator;

public sealed record SimulatedText(string? Number, string? Body);

public sealed record SimulatedPhone(string? Number);

/// <summary>One line of the simulated phone's thread: "sent" (typed on the phone), "reply" (AlertNet's answer)
/// or "received" (a message the drill carrier accepted for this number, with its carrier status).</summary>
public sealed record PhoneLine(string Kind, string Text, DateTimeOffset At, string? Status = null);

/// <summary>The drill-mode phone simulator's API (mapped only in drill mode). A text typed on the page goes to AlertNet
/// the way Twilio would deliver it: through the drill carrier (which keeps an inbound message record until AlertNet
/// deletes it), as a form signed with the (drill) auth token, posted over HTTP to the public /webhooks/twilio/inbound,
/// so the signature check and keyword handling are the production ones. The number travels
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
        if (!app.ServiceProvider.GetRequiredService<TwilioSettings>().HasPhoneSimulator)
        {
            return;
        }

        var api = app.MapGroup("/api/drill/phone").RequireAuthorization(Policies.Watch);
        api.MapPost("/text", TextAsync);
        api.MapPost("/messages", Messages);
    }

    private static async Task<IResult> TextAsync(SimulatedText? request, IOptions<AlertNetOptions> options, SimulatedHandsets handsets,
        CarrierSimulator carrier, TimeProvider time, CancellationToken cancellationToken)
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
        var before = carrier.ReceivedBy(from).Count;
        HandsetText text;
        try
        {
            // Through the drill carrier, as Twilio delivers a text: an inbound message record, then the signed webhook.
            text = await handsets.TextAsync(from, request.Body, cancellationToken: cancellationToken);
        }
        catch (Exception error) when ((error is HttpRequestException or TaskCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            // AlertNet:PublicBaseUrl must reach this process, as it must for the drill carrier's status callbacks.
            return Results.Problem($"The inbound webhook at AlertNet:PublicBaseUrl did not answer ({error.GetType().Name}).",
                statusCode: StatusCodes.Status502BadGateway);
        }

        if (text.WebhookStatus is < 200 or > 299)
        {
            return Results.Problem($"The inbound webhook answered {text.WebhookStatus}.", statusCode: StatusCodes.Status502BadGateway);
        }

        var lines = new List<PhoneLine> { new("sent", request.Body, sentAt) };
        // AlertNet's answer: what reached this phone while the webhook ran (replies go through the REST API).
        lines.AddRange(carrier.ReceivedBy(from).Skip(before).Select(m => new PhoneLine("reply", m.Body ?? "", m.DateCreated, m.Status)));
        return Results.Ok(new { lines });
    }

    private static IResult Messages(SimulatedPhone? request, IOptions<AlertNetOptions> options, CarrierSimulator carrier)
    {
        if (Parse(request?.Number, options.Value) is not { } to)
        {
            return BadNumber();
        }

        // The phone's own view: a text stays on a phone after the carrier's record of it is deleted.
        var messages = carrier.ReceivedBy(to)
            .TakeLast(MaxMessages)
            .Select(m => new PhoneLine("received", m.Body ?? "", m.DateCreated, m.Status));
        return Results.Ok(new { lines = messages });
    }

    private static string? Parse(string? number, AlertNetOptions options) =>
        SubscriberAddress.TryParse(number, options.DefaultRegion) is { Channel: SubscriberAddress.Sms } address ? address.E164 : null;

    private static IResult BadNumber() =>
        Results.Problem("number must be a phone number, such as +12025550100.", statusCode: StatusCodes.Status400BadRequest);
}
