using AlertNet.Hosting;
using Microsoft.Extensions.Options;
using Twilio.Security;

namespace AlertNet.Infrastructure.Twilio;

/// <summary>Verifies X-Twilio-Signature before a webhook handler sees anything. The URL checked is
/// the configured public address, never the request's own (a proxy may have rewritten it).
/// A missing or wrong signature gets 403 and changes nothing.</summary>
public sealed class TwilioWebhookFilter(TwilioSettings twilio, IOptions<AlertNetOptions> options, ILogger<TwilioWebhookFilter> logger)
    : IEndpointFilter
{
    private readonly RequestValidator _validator = new(twilio.AuthToken);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        var signature = request.Headers["X-Twilio-Signature"].ToString();
        if (string.IsNullOrEmpty(signature) || !request.HasFormContentType)
        {
            // RequestValidator throws on an empty signature: answer before calling it.
            logger.LogWarning("Rejected a webhook to {Path} without a signature", request.Path.Value);
            return Results.Problem("Missing X-Twilio-Signature.", statusCode: StatusCodes.Status403Forbidden);
        }

        var form = await request.ReadFormAsync(context.HttpContext.RequestAborted);
        var parameters = form.ToDictionary(field => field.Key, field => field.Value.ToString(), StringComparer.Ordinal);
        var url = options.Value.PublicBaseUrl.TrimEnd('/') + request.Path + request.QueryString;
        if (!_validator.Validate(url, parameters, signature))
        {
            logger.LogWarning("Rejected a webhook to {Path} with an invalid signature", request.Path.Value);
            return Results.Problem("Invalid X-Twilio-Signature.", statusCode: StatusCodes.Status403Forbidden);
        }

        return await next(context);
    }
}
