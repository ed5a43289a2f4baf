using AlertNet.Infrastructure.Twilio;
using Mediator;

namespace AlertNet.Delivery;

/// <summary>A Twilio status callback. The delivery id rides in the callback URL, which the signature
/// covers, so it can be trusted. Callbacks come unordered and at least once: the update only ever
/// moves a delivery forward.</summary>
public sealed record ReceiveStatusCallback(long DeliveryId, string MessageSid, string State, int? ErrorCode) : Mediator.ICommand<bool>;

public sealed class ReceiveStatusCallbackHandler(StatusCallbackWriter writer) : ICommandHandler<ReceiveStatusCallback, bool>
{
    public async ValueTask<bool> Handle(ReceiveStatusCallback callback, CancellationToken cancellationToken)
    {
        await writer.WriteAsync(callback, cancellationToken);
        return true;
    }
}

public static class ReceiveStatusCallbackEndpoint
{
    public static void MapReceiveStatusCallback(this IEndpointRouteBuilder app) =>
        app.MapPost("/webhooks/twilio/status", async (HttpRequest request, long? deliveryId, string? kind, IMediator mediator,
                Carrier.ProviderDeletions deletions, CancellationToken cancellationToken) =>
            {
                var form = await request.ReadFormAsync(cancellationToken);
                var state = DeliveryState.FromTwilio(form["MessageStatus"]);
                if (deliveryId is null)
                {
                    if (kind is not (Carrier.ProviderDeletions.Reply or Carrier.ProviderDeletions.TestSend))
                    {
                        return Results.Problem("deliveryId (or kind=reply, kind=test) is required.", statusCode: StatusCodes.Status400BadRequest);
                    }

                    // A reply or a test send has no delivery: its final status only means it may be deleted now.
                    if (state is not null && DeliveryState.Rank(state) == DeliveryState.Rank(DeliveryState.Delivered))
                    {
                        await deletions.DueNowAsync(form["MessageSid"].ToString(), kind, cancellationToken);
                    }

                    return Results.Ok();
                }

                if (state is null)
                {
                    // Every status Twilio documents gets a 2xx: one that says nothing about an outbound message (receiving,
                    // received) or one added since changes nothing here, and Twilio must not retry it.
                    return Results.Ok();
                }

                int? errorCode = int.TryParse(form["ErrorCode"], out var code) && code != 0 ? code : null;
                try
                {
                    await mediator.Send(new ReceiveStatusCallback(deliveryId.Value, form["MessageSid"].ToString(), state, errorCode), cancellationToken);
                }
                catch (GroupWriteFailedException)
                {
                    // The database is unreachable. Twilio retries a 5xx callback only with connection overrides, so
                    // the status refresh looks the message up later; the answer says so, briefly (the writer logged it).
                    return Results.Problem("The status could not be stored now; it will be looked up later.",
                        statusCode: StatusCodes.Status503ServiceUnavailable);
                }

                // 200 for a repeat or an old callback too: Twilio must not retry what we have deliberately ignored.
                return Results.Ok();
            })
            .AllowAnonymous()
            .AddEndpointFilter<TwilioWebhookFilter>()
            .DisableAntiforgery();
}
