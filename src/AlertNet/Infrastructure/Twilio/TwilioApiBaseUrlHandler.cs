namespace AlertNet.Infrastructure.Twilio;

/// <summary>
/// Sends the Twilio SDK's requests to a Twilio-compatible server instead of https://api.twilio.com. The SDK has
/// no base-URL setting, so the drill-mode carrier (or any stand-in) is reached by rewriting the request URI on
/// the way out: scheme, host and port are replaced and the base URL's path is put in front of Twilio's path.
/// </summary>
public sealed class TwilioApiBaseUrlHandler : DelegatingHandler
{
    private const string TwilioApiHost = "api.twilio.com";

    private readonly string? _authorityAndPrefix;

    public TwilioApiBaseUrlHandler(Uri baseUrl)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        if (!baseUrl.IsAbsoluteUri)
        {
            throw new ArgumentException("The Twilio API base URL must be absolute.", nameof(baseUrl));
        }

        var prefix = baseUrl.AbsolutePath.TrimEnd('/');
        var isTwilioItself = baseUrl.Scheme == Uri.UriSchemeHttps
            && string.Equals(baseUrl.Host, TwilioApiHost, StringComparison.OrdinalIgnoreCase)
            && baseUrl.IsDefaultPort
            && prefix.Length == 0;

        // Null means pass-through: production must reach Twilio with the SDK's URL untouched.
        _authorityAndPrefix = isTwilioItself ? null : baseUrl.GetLeftPart(UriPartial.Authority) + prefix;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Rewrite(request);
        return base.SendAsync(request, cancellationToken);
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Rewrite(request);
        return base.Send(request, cancellationToken);
    }

    private void Rewrite(HttpRequestMessage request)
    {
        if (_authorityAndPrefix is null || request.RequestUri is not { IsAbsoluteUri: true } uri || !IsTwilioApi(uri))
        {
            return;
        }

        // PathAndQuery is already escaped; concatenating keeps "DateSent%3E" and "%2B1..." exactly as the SDK wrote them.
        request.RequestUri = new Uri(_authorityAndPrefix + uri.PathAndQuery);
    }

    // Region and edge settings turn api.twilio.com into api.{edge}.{region}.twilio.com; both mean the same API.
    private static bool IsTwilioApi(Uri uri) =>
        string.Equals(uri.Host, TwilioApiHost, StringComparison.OrdinalIgnoreCase)
        || (uri.Host.StartsWith("api.", StringComparison.OrdinalIgnoreCase)
            && uri.Host.EndsWith(".twilio.com", StringComparison.OrdinalIgnoreCase));
}
