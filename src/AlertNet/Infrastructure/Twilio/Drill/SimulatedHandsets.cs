using System.Xml;
using System.Xml.Linq;
using Microsoft.Extensions.Options;

namespace AlertNet.Infrastructure.Twilio.Drill;

/// <summary>What a phone texting the service sees: its text delivered, and whatever came back.</summary>
public sealed record HandsetText(string Sid, int WebhookStatus, IReadOnlyList<SimulatedMessage> TwimlReplies);

/// <summary>Phones texting the service's number, as the carrier sees it: each text becomes an inbound message record
/// (direction inbound, status received) with a SID, is posted to the inbound webhook signed as Twilio signs it, and
/// each &lt;Message&gt; of the TwiML answer becomes an outbound-reply record delivered to the phone. The records stay
/// until the service deletes them, as at Twilio.</summary>
public sealed class SimulatedHandsets(CarrierSimulator carrier, IHttpClientFactory httpClients, IOptions<CarrierSimulatorOptions> options,
    TimeProvider time)
{
    public const string HttpClientName = "carrier-simulator-inbound";

    /// <summary>Texts <paramref name="body"/> from <paramref name="from"/> to the service's number (<paramref name="to"/>, or
    /// the simulator's sender), posting to <paramref name="webhookUrl"/> (or the configured inbound webhook).</summary>
    public async Task<HandsetText> TextAsync(string from, string body, string? to = null, string? webhookUrl = null,
        CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        var url = webhookUrl ?? settings.InboundWebhookUrl
            ?? throw new InvalidOperationException("The carrier simulator has no inbound webhook URL.");
        var service = to ?? (DrillMagicNumbers.IsWhatsApp(from) ? DrillMagicNumbers.WhatsAppPrefix + DrillMagicNumbers.ServiceSender
            : DrillMagicNumbers.ServiceSender);
        var now = time.GetUtcNow();
        var inbound = carrier.Accept(new SimulatedMessage
        {
            Sid = "SM" + Guid.NewGuid().ToString("N"),
            AccountSid = settings.AccountSid,
            To = service,
            From = from,
            Body = body,
            Direction = "inbound",
            Status = "received",
            Segments = Delivery.SmsSegments.Count(body),
            DateCreated = now,
            DateUpdated = now,
            DateSent = now,
        });

        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["MessageSid"] = inbound.Sid,
            ["SmsSid"] = inbound.Sid,
            ["AccountSid"] = settings.AccountSid,
            ["From"] = from,
            ["To"] = service,
            ["Body"] = body,
            ["NumMedia"] = "0",
            ["NumSegments"] = inbound.Segments.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ApiVersion"] = TwilioApiJson.ApiVersion,
        };
        using var post = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(fields) };
        post.Headers.Add("X-Twilio-Signature", TwilioSignature.Compute(settings.AuthToken, url, fields));
        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(post, cancellationToken);
        var replies = new List<SimulatedMessage>();
        if (response.IsSuccessStatusCode)
        {
            foreach (var text in MessagesOf(await response.Content.ReadAsStringAsync(cancellationToken)))
            {
                var at = time.GetUtcNow();
                replies.Add(carrier.Accept(new SimulatedMessage
                {
                    Sid = "SM" + Guid.NewGuid().ToString("N"),
                    AccountSid = settings.AccountSid,
                    To = from,
                    From = service,
                    Body = text,
                    Direction = "outbound-reply",
                    Status = "delivered",
                    Segments = Delivery.SmsSegments.Count(text),
                    DateCreated = at,
                    DateUpdated = at,
                    DateSent = at,
                }));
            }
        }

        return new HandsetText(inbound.Sid, (int)response.StatusCode, replies);
    }

    private static List<string> MessagesOf(string twiml)
    {
        try
        {
            return XDocument.Parse(twiml).Root?.Elements("Message").Select(m => m.Value).ToList() ?? [];
        }
        catch (XmlException)
        {
            // Not TwiML: Twilio sends nothing back either.
            return [];
        }
    }
}
