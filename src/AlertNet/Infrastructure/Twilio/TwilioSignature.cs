using System.Security.Cryptography;
using System.Text;

namespace AlertNet.Infrastructure.Twilio;

/// <summary>
/// Computes Twilio's <c>X-Twilio-Signature</c>: base64 HMAC-SHA1, keyed with the auth token, over the full URL
/// followed by every POST parameter as key+value in ordinal key order. The drill-mode carrier signs its status
/// callbacks with it so that AlertNet's webhook checks them with the SDK's own <c>RequestValidator</c>, exactly
/// as in production.
/// </summary>
public static class TwilioSignature
{
    public static string Compute(string authToken, string url, IEnumerable<KeyValuePair<string, string>> formParameters)
    {
        ArgumentException.ThrowIfNullOrEmpty(authToken);
        ArgumentException.ThrowIfNullOrEmpty(url);
        ArgumentNullException.ThrowIfNull(formParameters);

        var data = new StringBuilder(url, url.Length + 512);
        // Ordinal, not culture, order: Twilio sorts by code unit, and "MessageSid" must precede "MessagingServiceSid".
        foreach (var (key, value) in formParameters
                     .OrderBy(p => p.Key, StringComparer.Ordinal)
                     .ThenBy(p => p.Value, StringComparer.Ordinal))
        {
            data.Append(key).Append(value);
        }

#pragma warning disable CA5350 // Twilio's webhook signature is defined as HMAC-SHA1; another hash would not verify.
        var hash = HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(data.ToString()));
#pragma warning restore CA5350
        return Convert.ToBase64String(hash);
    }
}
