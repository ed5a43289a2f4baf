using AlertNet.Hosting;
using Microsoft.Extensions.Options;
using Twilio.Security;

namespace AlertNet.Infrastructure.Twilio;

/// <summary>Verifies X-Twilio-Signature before a webhook handler sees anything. The URL checked is
/// the configured public address, never the request's own (a proxy may have rewritten it).
/// A missing or wrong signature gets 403 and changes nothing; a body that is not a readable form
/// gets 415, 413 or 400 with the reason.</summary>
public sealed class TwilioWebhookFilter(TwilioSettings twilio, IOptions<AlertNetOptions> options, ILogger<TwilioWebhookFilter> logger)
    : IEndpointFilter
{
    /// <summary>Twilio's webhooks are a few kilobytes (a 1,600-character body, some media URLs): anything bigger is
    /// refused before it is read, signed or not, so nobody can make AlertNet read megabytes per request.</summary>
    public const long MaxBodyBytes = 64 * 1024;

    private readonly RequestValidator _validator = new(twilio.AuthToken);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        if (!request.HasFormContentType)
        {
            return Results.Problem("Twilio webhooks are posted as application/x-www-form-urlencoded.",
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return TooLarge();
        }

        // A body without a length (chunked) is cut off by the server once past the limit.
        if (context.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes;
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(context.HttpContext.RequestAborted);
        }
        catch (BadHttpRequestException error) when (error.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge();
        }
        catch (InvalidDataException error)
        {
            // Beyond ASP.NET Core's form limits (1,024 fields, 4 MB a value), or undecodable (a NUL
            // character): a clear 4xx, not an exception. The reader's own words name the limit.
            var tooLarge = error.Message.Contains("limit", StringComparison.OrdinalIgnoreCase);
            return Results.Problem("The form could not be read: " + error.Message,
                statusCode: tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest);
        }

        var signature = request.Headers["X-Twilio-Signature"].ToString();
        if (string.IsNullOrEmpty(signature))
        {
            // RequestValidator throws on an empty signature: answer before calling it.
            logger.LogWarning("Rejected a webhook to {Path} without a signature", request.Path.Value);
            return Results.Problem("Missing X-Twilio-Signature.", statusCode: StatusCodes.Status403Forbidden);
        }

        var parameters = form.ToDictionary(field => field.Key, field => field.Value.ToString(), StringComparer.Ordinal);
        var url = options.Value.PublicBaseUrl.TrimEnd('/') + request.Path + request.QueryString;
        if (!_validator.Validate(url, parameters, signature))
        {
            logger.LogWarning("Rejected a webhook to {Path} with an invalid signature", request.Path.Value);
            return Results.Problem("Invalid X-Twilio-Signature.", statusCode: StatusCodes.Status403Forbidden);
        }

        return await next(context);
    }

    private static IResult TooLarge() =>
        Results.Problem($"Twilio webhooks are at most {MaxBodyBytes / 1024} KB.", statusCode: StatusCodes.Status413PayloadTooLarge);
}
