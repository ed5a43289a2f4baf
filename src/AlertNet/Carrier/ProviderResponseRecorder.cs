using System.Runtime.CompilerServices;

namespace AlertNet.Carrier;

/// <summary>Notes the HTTP status of the provider's answer for the adapter call in progress. The SDK reports an error page
/// that is not its JSON as status 0 (and quotes the page in its message, which AlertNet never reads), and an unreadable
/// 2xx answer the same way: the status tells an outage (5xx) from a send that may have been accepted (2xx).</summary>
public sealed class ProviderResponseRecorder : DelegatingHandler
{
    private static readonly AsyncLocal<StrongBox<int>?> Current = new();

    /// <summary>A fresh slot for the call about to be made on this async flow.</summary>
    public static StrongBox<int> Start()
    {
        var box = new StrongBox<int>(0);
        Current.Value = box;
        return box;
    }

    /// <summary>The status of the answer to the last request on this async flow (0: none yet).</summary>
    public static int LastStatus => Current.Value?.Value ?? 0;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (Current.Value is { } box)
        {
            box.Value = (int)response.StatusCode;
        }

        return response;
    }
}
