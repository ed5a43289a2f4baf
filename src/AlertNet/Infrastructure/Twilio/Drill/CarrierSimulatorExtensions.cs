using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AlertNet.Infrastructure.Twilio.Drill;

public static class CarrierSimulatorExtensions
{
    public static IServiceCollection AddCarrierSimulator(this IServiceCollection services, Action<CarrierSimulatorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<CarrierSimulatorOptions>()
            .Configure(configure)
            .Validate(o => !string.IsNullOrEmpty(o.AccountSid) && !string.IsNullOrEmpty(o.AuthToken),
                "The carrier simulator needs an AccountSid and an AuthToken.")
            .Validate(o => o.SentDelay >= TimeSpan.Zero && o.DeliveredDelay >= TimeSpan.Zero,
                "The carrier simulator's delays cannot be negative.")
            .Validate(o => o.MaxConcurrentCallbacks > 0 && o.CallbackQueueCapacity > 0,
                "The carrier simulator needs at least one callback slot and a non-empty queue.")
            .Validate(o => o.Faults.IsValid,
                "The carrier simulator's fault percentages must be 0 to 100 and add up to at most 100, with a positive timeout hold.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CarrierSimulator>();
        services.TryAddSingleton<StatusCallbackDispatcher>();
        services.TryAddSingleton<SimulatedHandsets>();
        services.AddHttpClient(SimulatedHandsets.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        services.AddHostedService(provider => provider.GetRequiredService<StatusCallbackDispatcher>());
        services.AddHttpClient(StatusCallbackDispatcher.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        return services;
    }

    /// <summary>
    /// Serves Twilio's 2010-04-01 Messages API under <paramref name="prefix"/> (e.g. "/drill/twilio"), so a Twilio
    /// SDK whose requests go through <see cref="TwilioApiBaseUrlHandler"/> talks to the simulator.
    /// </summary>
    public static IEndpointRouteBuilder MapCarrierSimulator(this IEndpointRouteBuilder app, string prefix)
    {
        // The endpoints check Twilio's own Basic auth; AlertNet's sign-in, rate limits and form tokens would make
        // the simulator answer in ways Twilio never does.
        var api = app.MapGroup(prefix + "/" + TwilioApiJson.ApiVersion + "/Accounts/{accountSid}")
            .AllowAnonymous()
            .DisableAntiforgery()
            .DisableRateLimiting()
            .ExcludeFromDescription();

        api.MapPost("/Messages.json", CarrierSimulatorApi.CreateMessageAsync);
        api.MapGet("/Messages.json", CarrierSimulatorApi.ListMessages);
        api.MapGet("/Messages/{sid}.json", CarrierSimulatorApi.FetchMessage);
        api.MapDelete("/Messages/{sid}.json", CarrierSimulatorApi.DeleteMessage);
        return app;
    }
}

internal static class CarrierSimulatorApi
{
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 1000;
    private const string PageTokenPrefix = "PA";

    public static async Task<IResult> CreateMessageAsync(
        string accountSid,
        HttpContext context,
        CarrierSimulator carrier,
        StatusCallbackDispatcher dispatcher,
        IOptions<CarrierSimulatorOptions> options,
        TimeProvider time,
        IHostApplicationLifetime lifetime)
    {
        carrier.CountCreateRequest();
        if (!IsAuthenticated(context.Request, accountSid, options.Value))
        {
            return TwilioApiJson.Error(TwilioApiError.Authenticate());
        }

        var form = context.Request.HasFormContentType
            ? await context.Request.ReadFormAsync(context.RequestAborted)
            : FormCollection.Empty;
        var to = Field(form, "To");
        var from = Field(form, "From");
        var serviceSid = Field(form, "MessagingServiceSid");
        var body = Field(form, "Body");
        var contentSid = Field(form, "ContentSid");
        var statusCallback = Field(form, "StatusCallback");
        var validityPeriodText = Field(form, "ValidityPeriod");
        int? validityPeriod = null;

        // Twilio checks in this order, so a request with several faults gets the same code it would get there.
        if (to is null)
        {
            return TwilioApiJson.Error(new(21604, 400, "A 'To' phone number is required."));
        }

        if (from is null && serviceSid is null)
        {
            return TwilioApiJson.Error(new(21603, 400, "A 'From' phone number is required."));
        }

        if (body is null && contentSid is null)
        {
            return TwilioApiJson.Error(new(21602, 400, "Message body is required."));
        }

        if (body is not null && body.EnumerateRunes().Count() > Delivery.SmsSegments.MaxBodyLength)
        {
            return TwilioApiJson.Error(new(21617, 400, "The concatenated message body exceeds the 1600 character limit."));
        }

        if (validityPeriodText is not null)
        {
            if (!int.TryParse(validityPeriodText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds is < 1 or > 36_000)
            {
                return TwilioApiJson.Error(new(21624, 400, "Invalid validity period value"));
            }

            validityPeriod = seconds;
        }

        if (statusCallback is not null && !IsHttpUrl(statusCallback))
        {
            return TwilioApiJson.Error(new(21609, 400, "Invalid StatusCallback url"));
        }

        if (DrillMagicNumbers.IsBusyOnFirstTry(to) && carrier.AnswerBusyOnce(to))
        {
            return TwilioApiJson.Error(new(20429, 429, "Too Many Requests"));
        }

        if (DrillMagicNumbers.WhatsAppRejectionFor(to, isTemplate: contentSid is not null) is { } whatsAppRejection)
        {
            return TwilioApiJson.Error(whatsAppRejection);
        }

        if (DrillMagicNumbers.RejectionFor(to) is { } rejection)
        {
            return TwilioApiJson.Error(rejection);
        }

        var fault = carrier.NextFault(options.Value.Faults, to);
        switch (fault)
        {
            case CarrierFault.TooManyRequests:
                return TwilioApiJson.Error(new(20429, 429, "Too Many Requests"));
            case CarrierFault.ServerError:
                return TwilioApiJson.Error(new(20500, 500, "Internal Server Error"));
            case CarrierFault.ConnectionReset:
                context.Abort();
                return Results.Empty;
        }

        var now = time.GetUtcNow();
        var message = carrier.Accept(new SimulatedMessage
        {
            Sid = "SM" + Guid.NewGuid().ToString("N"),
            AccountSid = accountSid,
            To = to,
            From = from,
            MessagingServiceSid = serviceSid,
            Body = body,
            BodyDiscarded = string.Equals(Field(form, "ContentRetention"), "discard", StringComparison.OrdinalIgnoreCase),
            ContentSid = contentSid,
            ContentVariables = Field(form, "ContentVariables"),
            StatusCallback = statusCallback,
            ValidityPeriod = validityPeriod,
            Status = serviceSid is null ? "queued" : "accepted",
            Segments = Delivery.SmsSegments.Count(body),
            DateCreated = now,
            DateUpdated = now,
        });

        // Once accepted, the message goes out whether or not this client is still waiting for the answer.
        await dispatcher.ScheduleAsync(message, lifetime.ApplicationStopping);

        if (DrillMagicNumbers.DropsConnection(to))
        {
            context.Abort();
            return Results.Empty;
        }

        if (fault == CarrierFault.TimeoutAfterAccept)
        {
            // Accepted, but the answer never comes: hold the request until the client gives up (its timeout closes
            // the connection) or the hold runs out, then drop it.
            try
            {
                await Task.Delay(options.Value.Faults.TimeoutHold, time, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }

            context.Abort();
            return Results.Empty;
        }

        return TwilioApiJson.Message(StatusCodes.Status201Created, message);
    }

    public static IResult FetchMessage(
        string accountSid,
        string sid,
        HttpContext context,
        CarrierSimulator carrier,
        IOptions<CarrierSimulatorOptions> options)
    {
        if (!IsAuthenticated(context.Request, accountSid, options.Value))
        {
            return TwilioApiJson.Error(TwilioApiError.Authenticate());
        }

        return carrier.FindHeld(sid) is { } message && message.AccountSid == accountSid
            ? TwilioApiJson.Message(StatusCodes.Status200OK, message)
            : TwilioApiJson.Error(TwilioApiError.NotFound(TwilioApiJson.MessageUri(accountSid, sid)));
    }

    /// <summary>DELETE as Twilio answers it: 204 once final, 404 for a SID it does not hold, 20009 while the message is
    /// still on its way.</summary>
    public static IResult DeleteMessage(
        string accountSid,
        string sid,
        HttpContext context,
        CarrierSimulator carrier,
        IOptions<CarrierSimulatorOptions> options)
    {
        if (!IsAuthenticated(context.Request, accountSid, options.Value))
        {
            return TwilioApiJson.Error(TwilioApiError.Authenticate());
        }

        if (carrier.FindHeld(sid) is not { } held || held.AccountSid != accountSid)
        {
            return TwilioApiJson.Error(TwilioApiError.NotFound(TwilioApiJson.MessageUri(accountSid, sid)));
        }

        return carrier.Delete(sid) switch
        {
            DeleteOutcome.Deleted => Results.NoContent(),
            DeleteOutcome.NotFinal => TwilioApiJson.Error(new(20009, StatusCodes.Status409Conflict,
                "Cannot delete message because delivery has not been completed.")),
            _ => TwilioApiJson.Error(TwilioApiError.NotFound(TwilioApiJson.MessageUri(accountSid, sid))),
        };
    }

    public static IResult ListMessages(
        string accountSid,
        HttpContext context,
        CarrierSimulator carrier,
        IOptions<CarrierSimulatorOptions> options)
    {
        if (!IsAuthenticated(context.Request, accountSid, options.Value))
        {
            return TwilioApiJson.Error(TwilioApiError.Authenticate());
        }

        var query = context.Request.Query;
        var to = NonEmpty(query["To"]);
        var from = NonEmpty(query["From"]);
        var dateSent = NonEmpty(query["DateSent"]);
        var dateSentAfter = NonEmpty(query["DateSent>"]);
        var dateSentBefore = NonEmpty(query["DateSent<"]);
        if (!TryParseSentFilter(dateSent, dateSentAfter, dateSentBefore, out var sentFilter))
        {
            return TwilioApiJson.Error(new(20001, 400, "Invalid DateSent filter: use YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ"));
        }

        var pageSize = int.TryParse(query["PageSize"], CultureInfo.InvariantCulture, out var size)
            ? Math.Clamp(size, 1, MaxPageSize)
            : DefaultPageSize;
        var page = int.TryParse(query["Page"], CultureInfo.InvariantCulture, out var number) ? Math.Max(number, 0) : 0;
        var pageToken = NonEmpty(query["PageToken"]);

        var matches = carrier.Query(accountSid, to, from, sentFilter);
        // The token names the last message already listed, so messages accepted meanwhile do not shift the pages.
        IEnumerable<SimulatedMessage> remaining = pageToken is not null
            && pageToken.StartsWith(PageTokenPrefix, StringComparison.Ordinal)
            && long.TryParse(pageToken.AsSpan(PageTokenPrefix.Length), CultureInfo.InvariantCulture, out var lastListed)
                ? matches.Where(m => m.Sequence < lastListed)
                : matches.Skip(page * pageSize);
        var pageItems = remaining.Take(pageSize + 1).ToList();
        var hasNext = pageItems.Count > pageSize;
        if (hasNext)
        {
            pageItems.RemoveAt(pageSize);
        }

        // Page URIs are relative to Twilio's API root, without the simulator's prefix: the SDK puts
        // https://api.twilio.com in front and the base-URL handler sends that back here.
        var path = $"/{TwilioApiJson.ApiVersion}/Accounts/{accountSid}/Messages.json";
        string PageUri(int pageNumber, string? token)
        {
            var builder = new QueryBuilder();
            AddIfPresent(builder, "To", to);
            AddIfPresent(builder, "From", from);
            AddIfPresent(builder, "DateSent", dateSent);
            AddIfPresent(builder, "DateSent>", dateSentAfter);
            AddIfPresent(builder, "DateSent<", dateSentBefore);
            builder.Add("PageSize", pageSize.ToString(CultureInfo.InvariantCulture));
            builder.Add("Page", pageNumber.ToString(CultureInfo.InvariantCulture));
            AddIfPresent(builder, "PageToken", token);
            return path + builder.ToQueryString();
        }

        return TwilioApiJson.Page(
            pageItems,
            page,
            pageSize,
            uri: PageUri(page, pageToken),
            firstPageUri: PageUri(0, null),
            previousPageUri: page > 0 ? PageUri(page - 1, null) : null,
            nextPageUri: hasNext ? PageUri(page + 1, PageTokenPrefix + pageItems[^1].Sequence.ToString(CultureInfo.InvariantCulture)) : null);
    }

    private static bool IsAuthenticated(HttpRequest request, string pathAccountSid, CarrierSimulatorOptions options)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Basic ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string credentials;
        try
        {
            credentials = Encoding.UTF8.GetString(Convert.FromBase64String(header[scheme.Length..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }

        var separator = credentials.IndexOf(':', StringComparison.Ordinal);
        if (separator < 0)
        {
            return false;
        }

        // Both comparisons always run, in constant time, so the answer time reveals nothing about the token.
        var accountMatches = FixedTimeEquals(credentials[..separator], options.AccountSid);
        var tokenMatches = FixedTimeEquals(credentials[(separator + 1)..], options.AuthToken);
        return accountMatches & tokenMatches & string.Equals(pathAccountSid, options.AccountSid, StringComparison.Ordinal);
    }

    private static bool FixedTimeEquals(string actual, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(actual), Encoding.UTF8.GetBytes(expected));

    private static string? Field(IFormCollection form, string name) => NonEmpty(form[name]);

    private static string? NonEmpty(Microsoft.Extensions.Primitives.StringValues values) =>
        values.Count > 0 && !string.IsNullOrEmpty(values[0]) ? values[0] : null;

    private static void AddIfPresent(QueryBuilder builder, string key, string? value)
    {
        if (value is not null)
        {
            builder.Add(key, value);
        }
    }

    private static bool IsHttpUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    /// <summary>
    /// Twilio's DateSent filters: "DateSent&gt;" means on or after, "DateSent&lt;" on or before, and "DateSent" the
    /// whole UTC day. The SDK always sends "yyyy-MM-ddTHH:mm:ssZ", so a bare date and a date-time are both read,
    /// at whole-second precision like the RFC 2822 dates the API returns. Messages not yet sent have no date_sent
    /// and match no DateSent filter.
    /// </summary>
    private static bool TryParseSentFilter(string? on, string? after, string? before, out Func<SimulatedMessage, bool> filter)
    {
        filter = static _ => true;
        if (on is null && after is null && before is null)
        {
            return true;
        }

        DateTimeOffset? lower = null;
        DateTimeOffset? upper = null;
        if (on is not null)
        {
            if (!TryParseInstant(on, out var day, out _))
            {
                return false;
            }

            lower = new DateTimeOffset(day.UtcDateTime.Date, TimeSpan.Zero);
            upper = lower.Value.AddDays(1).AddSeconds(-1);
        }
        else
        {
            if (after is not null)
            {
                if (!TryParseInstant(after, out var instant, out _))
                {
                    return false;
                }

                lower = instant;
            }

            if (before is not null)
            {
                if (!TryParseInstant(before, out var instant, out var dateOnly))
                {
                    return false;
                }

                upper = dateOnly ? instant.AddDays(1).AddSeconds(-1) : instant;
            }
        }

        filter = message =>
        {
            if (message.DateSent is not { } sent)
            {
                return false;
            }

            var second = new DateTimeOffset(sent.UtcTicks - (sent.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
            return (lower is null || second >= lower) && (upper is null || second <= upper);
        };
        return true;
    }

    private static bool TryParseInstant(string text, out DateTimeOffset instant, out bool dateOnly)
    {
        dateOnly = text.Length == 10;
        return DateTimeOffset.TryParse(
            text,
            CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
            out instant);
    }
}
