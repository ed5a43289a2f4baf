using System.Security.Claims;
using AlertNet.Delivery;
using AlertNet.Hosting;
using AlertNet.Infrastructure.Auth;
using AlertNet.Carrier;
using AlertNet.Privacy;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AlertNet.Alerts;

/// <summary>The composer's "Send me a test": one SMS with the composed text to the organizer's own phone, the one
/// registered under their name (<c>register-organizer-phone --name</c> equal to the sign-in or token name, see
/// <see cref="Actor"/>). It goes through the same Twilio client and sender as alerts, paced with urgent sends,
/// and never to a subscriber: there is no other recipient than that phone.</summary>
public sealed record TestSendAlert(string Organizer, IReadOnlyDictionary<string, string> Bodies, string? Language)
    : Mediator.ICommand<TestSendResult>;

public abstract record TestSendResult
{
    public sealed record Sent(string To, string Language, string Encoding, int Segments, string Sid) : TestSendResult;

    public sealed record NoPhone(string Organizer) : TestSendResult;

    public sealed record Refused(int Code) : TestSendResult;

    public sealed record NoAnswer : TestSendResult;
}

public sealed class TestSendAlertHandler(
    NpgsqlDataSource db,
    PersonalDataProtector protector,
    CarrierClient carrier,
    SenderThrottle throttle,
    AuditLog audit,
    IOptions<AlertNetOptions> app,
    ILogger<TestSendAlertHandler> logger) : Mediator.ICommandHandler<TestSendAlert, TestSendResult>
{
    public async ValueTask<TestSendResult> Handle(TestSendAlert command, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // Names are unique as written; a sign-in name may differ in case from the registered one.
        var phone = await connection.QuerySingleOrDefaultAsync<(long Id, byte[] Cipher, string Language)?>(new CommandDefinition(
            """
            SELECT id, phone_cipher, language FROM organizer_phones
            WHERE lower(name) = lower(@name) ORDER BY name = @name DESC LIMIT 1
            """,
            new { name = command.Organizer }, cancellationToken: cancellationToken));
        if (phone is not { } found)
        {
            return new TestSendResult.NoPhone(command.Organizer);
        }

        var language = new[] { command.Language, found.Language, app.Value.DefaultLanguage }
            .FirstOrDefault(l => l is not null && command.Bodies.ContainsKey(l)) ?? command.Bodies.Keys.First();
        var sms = SmsSegments.Analyze(command.Bodies[language]);
        var e164 = protector.Decrypt(found.Cipher, CipherPlaces.OrganizerPhone(found.Id));
        await throttle.WaitAsync(sms.Segments, urgent: true, cancellationToken);
        try
        {
            // Not cancelled with the request from here on: once asked, the provider's answer is what we report and audit.
            var sid = await carrier.SendAsync(new OutboundMessage(e164, sms.SentText,
                new Uri(app.Value.PublicUri, "webhooks/twilio/status?kind=" + ProviderDeletions.TestSend)), Privacy.SubscriberAddress.Sms);
            // No delivery row keeps it: it goes straight to the deletion queue, a minute on (it is hardly final yet).
            await ProviderDeletions.QueueAsync(connection, null, [sid], ProviderDeletions.TestSend, CancellationToken.None, TimeSpan.FromMinutes(1));
            await audit.RecordAsync(command.Organizer, "alert.test-send", null, new { language, segments = sms.Segments }, CancellationToken.None);
            return new TestSendResult.Sent(PersonalDataProtector.Mask(e164), language, sms.Encoding, sms.Segments, sid);
        }
        catch (CarrierException error) when (error.Failure == CarrierFailure.Refused || error.Failure == CarrierFailure.Throttled)
        {
            logger.LogWarning("Test send refused by the provider with error {Code} (HTTP {Status})", error.Code, error.HttpStatus);
            return new TestSendResult.Refused(error.Code);
        }
        catch (CarrierException error)
        {
            logger.LogWarning("Test send: no answer from the provider ({Failure}, {Error})", error.Failure, error.ExceptionType);
            return new TestSendResult.NoAnswer();
        }
    }
}

public sealed record TestSendRequest(Dictionary<string, string>? Bodies, string? Language);

public static class TestSendAlertEndpoint
{
    public static void MapTestSendAlert(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/alerts/test-send", async (TestSendRequest request, Mediator.IMediator mediator, ClaimsPrincipal user,
                CancellationToken cancellationToken) =>
            {
                if (AlertBodies.Problem(request.Bodies) is { } problem)
                {
                    return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
                }

                return await mediator.Send(new TestSendAlert(Actor.Of(user), request.Bodies!, request.Language), cancellationToken) switch
                {
                    TestSendResult.Sent sent => Results.Ok(sent),
                    TestSendResult.NoPhone noPhone => Results.Problem(
                        $"No phone is registered for {noPhone.Organizer}, so there is nowhere to send a test. An admin registers one with: " +
                        $"AlertNet register-organizer-phone --phone +1... --name {noPhone.Organizer}",
                        statusCode: StatusCodes.Status409Conflict),
                    TestSendResult.Refused refused => Results.Problem(
                        $"Twilio refused the test message with error {refused.Code} (https://www.twilio.com/docs/api/errors/{refused.Code}).",
                        statusCode: StatusCodes.Status502BadGateway),
                    _ => Results.Problem("Twilio did not answer; the test message may or may not have been sent.",
                        statusCode: StatusCodes.Status504GatewayTimeout),
                };
            })
            .RequireAuthorization(Policies.Organize);
}
