using System.Net.Sockets;
using AlertNet.Infrastructure.Twilio;
using Microsoft.Extensions.Options;
using Twilio.Clients;
using Twilio.Exceptions;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;

namespace AlertNet.Carrier;

/// <summary>A message to send: where, what (a body or a Content template), where its status callbacks go, and how
/// long it stays worth delivering.</summary>
public sealed record OutboundMessage(
    string To,
    string? Body,
    Uri StatusCallback,
    string? ContentSid = null,
    string? ContentVariables = null,
    int? ValidityPeriodSeconds = null);

/// <summary>A message as the provider holds it.</summary>
public sealed record CarrierMessage(string Sid, string? Status, int? ErrorCode, string? Direction, string? From, string? MessagingServiceSid,
    string? Body, DateTime? CreatedUtc);

/// <summary>The one way AlertNet talks to its SMS/WhatsApp provider (Twilio, or any service with Twilio's REST API): send,
/// find a message sent without an answer, fetch a status, delete. Every SDK exception is caught here and turned into a
/// <see cref="CarrierException"/> without the SDK's text (which quotes URLs and error pages, phone numbers included).
/// Each request goes through the sender's <see cref="CarrierCircuit"/>, so an outage makes callers hand work back at
/// once instead of waiting out a timeout per message.</summary>
public sealed class CarrierClient
{
    private readonly ITwilioRestClient _twilio;
    private readonly CarrierOptions _options;

    public CarrierClient(ITwilioRestClient twilio, TwilioSettings settings, IOptions<CarrierOptions> options, CarrierHealth health, TimeProvider time)
    {
        _twilio = twilio;
        _options = options.Value;
        Sender = new Sender(settings.MessagingServiceSid ?? settings.From ?? "default", settings.From, settings.MessagingServiceSid);
        Circuit = new CarrierCircuit(Sender.Name, _options, time);
        health.Watch(Circuit);
    }

    /// <summary>The sender messages go out from (one today; see the senders issue).</summary>
    public Sender Sender { get; }

    public CarrierCircuit Circuit { get; }

    /// <summary>Sends a message and returns its SID. Throws <see cref="CarrierException"/>; when its
    /// <see cref="CarrierException.MayHaveSucceeded"/> is true the message may exist at the provider without us knowing
    /// its SID: find it (<see cref="FindSentAsync"/>) before sending again.</summary>
    public Task<string> SendAsync(OutboundMessage message, string channel) =>
        CallAsync("send", async () =>
        {
            var options = new CreateMessageOptions(new PhoneNumber(message.To))
            {
                StatusCallback = message.StatusCallback,
                Body = message.Body,
                ContentSid = message.ContentSid,
                ContentVariables = message.ContentVariables,
                ValidityPeriod = message.ValidityPeriodSeconds,
            };
            if (Sender.MessagingServiceSid is { } service)
            {
                options.MessagingServiceSid = service;
            }
            else
            {
                options.From = new PhoneNumber(Sender.AddressOn(channel));
            }

            if (_options.RedactMessages)
            {
                options.ContentRetention = MessageResource.ContentRetentionEnum.Discard;
                options.AddressRetention = MessageResource.AddressRetentionEnum.Obfuscate;
            }

            return (await MessageResource.CreateAsync(options, _twilio)).Sid;
        });

    /// <summary>After a send that got no answer: the message the provider accepted for it, if any. Only a message that
    /// can be this send is taken: outbound from the API, to this address, from this sender, created inside the claim's
    /// window, with this body (when the provider keeps bodies and the caller gives one), and not already known as another
    /// message of ours (<paramref name="knownSids"/>: a reply, a test send or another alert's message to the same person).</summary>
    public Task<string?> FindSentAsync(string to, string channel, string? body, DateTime windowStartUtc, DateTime windowEndUtc,
        Func<IReadOnlyCollection<string>, Task<IReadOnlySet<string>>> knownSids) =>
        CallAsync("find", async () =>
        {
            // Filter by To only: a message still queued has no DateSent and would escape a DateSent filter. The
            // provider lists newest first; one page covers a claim's window (the SDK would fetch further pages with a
            // blocking wait, hence the limit equal to the page size).
            var recent = await MessageResource.ReadAsync(new ReadMessageOptions { To = new PhoneNumber(to), PageSize = 50, Limit = 50 }, _twilio);
            var candidates = recent
                .Where(m => m.Direction == MessageResource.DirectionEnum.OutboundApi)
                .Where(m => m.DateCreated is { } created
                            && created.ToUniversalTime() >= windowStartUtc.AddSeconds(-5)
                            && created.ToUniversalTime() <= windowEndUtc.AddSeconds(5))
                .Where(m => Sender.MessagingServiceSid is { } service
                    ? m.MessagingServiceSid == service
                    : m.From?.ToString() == Sender.AddressOn(channel))
                .Where(m => body is null || _options.RedactMessages || string.IsNullOrEmpty(m.Body) || m.Body == body)
                .ToList();
            if (candidates.Count == 0)
            {
                return null;
            }

            var known = await knownSids(candidates.Select(c => c.Sid).ToList());
            var mine = candidates.Where(c => !known.Contains(c.Sid)).ToList();
            // Two unknown candidates that fit equally well cannot be told apart: the oldest is the one this claim sent
            // first. (Only possible when bodies cannot be compared; README "Reconcile" says when.)
            return mine.OrderBy(c => c.DateCreated).FirstOrDefault()?.Sid;
        });

    public Task<CarrierMessage> FetchAsync(string sid) =>
        CallAsync("fetch", async () =>
        {
            var m = await MessageResource.FetchAsync(pathSid: sid, client: _twilio);
            return new CarrierMessage(m.Sid, m.Status?.ToString(), m.ErrorCode, m.Direction?.ToString(), m.From?.ToString(),
                m.MessagingServiceSid, m.Body, m.DateCreated?.ToUniversalTime());
        });

    /// <summary>Deletes a message at the provider. True when it is gone (deleted now, or unknown: 404 counts as done);
    /// false when the provider refuses because the message is not final yet (Twilio 20009): try again later.</summary>
    public async Task<bool> DeleteAsync(string sid)
    {
        try
        {
            return await CallAsync("delete", async () =>
            {
                await MessageResource.DeleteAsync(pathSid: sid, client: _twilio);
                // The provider answers a deletion with 204 No Content. Any other 2xx is not its answer (a proxy's page, say):
                // ask again rather than forget a message that may still be there (a second DELETE of a deleted one is a 404).
                return ProviderResponseRecorder.LastStatus == 204
                    ? true
                    : throw new CarrierException("delete", CarrierFailure.NoAnswer, ProviderResponseRecorder.LastStatus, 0, "UnexpectedAnswer");
            });
        }
        catch (CarrierException error) when (error.HttpStatus == 404 || error.Code == 20404)
        {
            return true;
        }
        catch (CarrierException error) when (error.Code == NotYetFinal)
        {
            return false;
        }
    }

    /// <summary>Twilio's "cannot delete: the message is not complete yet".</summary>
    public const int NotYetFinal = 20009;

    private async Task<T> CallAsync<T>(string operation, Func<Task<T>> call)
    {
        if (!Circuit.TryEnter(out var isProbe))
        {
            throw new CarrierException(operation, CarrierFailure.CircuitOpen, 0, 0, nameof(CarrierCircuit));
        }

        var status = ProviderResponseRecorder.Start();
        try
        {
            var result = await call();
            Circuit.Succeeded();
            return result;
        }
        catch (Exception error) when (error is not CarrierException)
        {
            var failure = Translate(operation, error, status.Value);
            Circuit.Failed(failure, isProbe);
            throw failure;
        }
        catch (CarrierException failure)
        {
            Circuit.Failed(failure, isProbe);
            throw;
        }
    }

    /// <summary>What happened, from the exception's type and the HTTP status the response recorder saw: never its text.</summary>
    private static CarrierException Translate(string operation, Exception error, int httpStatus)
    {
        var type = error.GetType().Name;
        switch (error)
        {
            case ApiException { Status: >= 400 } api:
                var failure = api.Status == 429 || api.Code == 20429 ? CarrierFailure.Throttled
                    : api.Status >= 500 ? CarrierFailure.ServerError
                    : CarrierFailure.Refused;
                return new CarrierException(operation, failure, api.Status, api.Code, type);
            case ApiConnectionException when IsUnreachable(error):
                return new CarrierException(operation, CarrierFailure.Unreachable, 0, 0, type);
            default:
                // An error page that is not the provider's JSON (the SDK says status 0), a 2xx answer that cannot be read, a
                // timeout, a connection dropped mid-way: the request may have been carried out.
                var failed = httpStatus switch
                {
                    429 => CarrierFailure.Throttled,
                    >= 500 => CarrierFailure.ServerError,
                    >= 400 => CarrierFailure.Refused,
                    _ => CarrierFailure.NoAnswer,
                };
                return new CarrierException(operation, failed, httpStatus, 0, type);
        }
    }

    /// <summary>Connection refused, no route, no such host: the request never left this machine.</summary>
    private static bool IsUnreachable(Exception error)
    {
        for (var inner = error.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode is SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.HostUnreachable
                    or SocketError.NetworkUnreachable or SocketError.NetworkDown or SocketError.TryAgain or SocketError.NoData;
            }
        }

        return false;
    }
}
