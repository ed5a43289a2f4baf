namespace AlertNet.Subscribers;

/// <summary>Runs before the signature check on the inbound webhook: a request that is not a form, a form beyond
/// ASP.NET Core's limits (1,024 fields, 4 MB a value), or one it cannot decode (a NUL character), gets a clear 4xx
/// instead of an exception (500).
/// The form it reads is the one the signature filter then verifies (ASP.NET Core keeps it); nothing in it is acted
/// on here.</summary>
public sealed class InboundFormGuard : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        if (!request.HasFormContentType)
        {
            return Results.Problem("Twilio webhooks are posted as application/x-www-form-urlencoded.",
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        try
        {
            await request.ReadFormAsync(context.HttpContext.RequestAborted);
        }
        catch (InvalidDataException e)
        {
            // The reader's own words: "Form value count limit 1024 exceeded.", "The form value contains invalid characters."
            var tooLarge = e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase);
            return Results.Problem("The form could not be read: " + e.Message,
                statusCode: tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest);
        }

        return await next(context);
    }
}
