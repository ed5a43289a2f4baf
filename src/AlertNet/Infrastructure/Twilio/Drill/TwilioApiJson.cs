using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AlertNet.Infrastructure.Twilio.Drill;

/// <summary>An error as Twilio's REST API reports it; the SDK turns it into <c>ApiException(Code, Status)</c>.</summary>
internal sealed record TwilioApiError(int Code, int Status, string Message)
{
    public string MoreInfo => $"https://www.twilio.com/docs/errors/{Code}";

    public static TwilioApiError Authenticate() =>
        new(20003, StatusCodes.Status401Unauthorized, "Authenticate");

    public static TwilioApiError NotFound(string path) =>
        new(20404, StatusCodes.Status404NotFound, $"The requested resource {path} was not found");
}

/// <summary>
/// Writes the JSON of Twilio's 2010-04-01 API by hand: the field names, the explicit nulls, the numbers-as-strings
/// and the RFC 2822 dates are part of what the SDK parses, so no serializer convention may change them.
/// </summary>
internal static class TwilioApiJson
{
    public const string ApiVersion = "2010-04-01";

    // Relaxed escaping keeps "+1..." and accented bodies readable; the answer is JSON for an API client, not HTML.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Rfc2822(DateTimeOffset time) =>
        time.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture);

    public static string MessageUri(string accountSid, string sid) =>
        $"/{ApiVersion}/Accounts/{accountSid}/Messages/{sid}.json";

    public static IResult Message(int status, SimulatedMessage message) =>
        new JsonResult(status, writer => WriteMessage(writer, message));

    public static IResult Error(TwilioApiError error) => new JsonResult(error.Status, writer =>
    {
        writer.WriteStartObject();
        writer.WriteNumber("code", error.Code);
        writer.WriteString("message", error.Message);
        writer.WriteString("more_info", error.MoreInfo);
        writer.WriteNumber("status", error.Status);
        writer.WriteEndObject();
    });

    public static IResult Page(
        IReadOnlyList<SimulatedMessage> messages,
        int page,
        int pageSize,
        string uri,
        string firstPageUri,
        string? previousPageUri,
        string? nextPageUri) => new JsonResult(StatusCodes.Status200OK, writer =>
    {
        writer.WriteStartObject();
        writer.WriteStartArray("messages");
        foreach (var message in messages)
        {
            WriteMessage(writer, message);
        }

        writer.WriteEndArray();
        writer.WriteNumber("page", page);
        writer.WriteNumber("page_size", pageSize);
        writer.WriteString("first_page_uri", firstPageUri);
        WriteStringOrNull(writer, "previous_page_uri", previousPageUri);
        WriteStringOrNull(writer, "next_page_uri", nextPageUri);
        writer.WriteString("uri", uri);
        var start = page * pageSize;
        writer.WriteNumber("start", start);
        writer.WriteNumber("end", start + Math.Max(messages.Count - 1, 0));
        writer.WriteEndObject();
    });

    private static void WriteMessage(Utf8JsonWriter writer, SimulatedMessage message)
    {
        var uri = MessageUri(message.AccountSid, message.Sid);
        // Twilio reports 0 segments until a Messaging Service has picked the sender.
        var segments = message.MessagingServiceSid is not null && message.Status == "accepted" ? 0 : message.Segments;

        writer.WriteStartObject();
        writer.WriteString("account_sid", message.AccountSid);
        writer.WriteString("api_version", ApiVersion);
        WriteStringOrNull(writer, "body", message.BodyDiscarded ? "" : message.Body);
        writer.WriteString("date_created", Rfc2822(message.DateCreated));
        WriteStringOrNull(writer, "date_sent", message.DateSent is { } sent ? Rfc2822(sent) : null);
        writer.WriteString("date_updated", Rfc2822(message.DateUpdated));
        writer.WriteString("direction", message.Direction);
        if (message.ErrorCode is { } errorCode)
        {
            writer.WriteNumber("error_code", errorCode);
        }
        else
        {
            writer.WriteNull("error_code");
        }

        WriteStringOrNull(writer, "error_message", message.ErrorMessage);
        WriteStringOrNull(writer, "from", message.From);
        WriteStringOrNull(writer, "messaging_service_sid", message.MessagingServiceSid);
        writer.WriteString("num_media", "0");
        writer.WriteString("num_segments", segments.ToString(CultureInfo.InvariantCulture));
        writer.WriteNull("price");
        writer.WriteString("price_unit", "USD");
        writer.WriteString("sid", message.Sid);
        writer.WriteString("status", message.Status);
        writer.WriteStartObject("subresource_uris");
        writer.WriteString("media", $"/{ApiVersion}/Accounts/{message.AccountSid}/Messages/{message.Sid}/Media.json");
        writer.WriteString("feedback", $"/{ApiVersion}/Accounts/{message.AccountSid}/Messages/{message.Sid}/Feedback.json");
        writer.WriteEndObject();
        writer.WriteString("to", message.To);
        writer.WriteString("uri", uri);
        writer.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private sealed class JsonResult(int status, Action<Utf8JsonWriter> write) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var buffer = new ArrayBufferWriter<byte>(1024);
            using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            {
                write(writer);
            }

            var response = httpContext.Response;
            response.StatusCode = status;
            response.ContentType = "application/json; charset=utf-8";
            response.ContentLength = buffer.WrittenCount;
            if (status == StatusCodes.Status401Unauthorized)
            {
                response.Headers.WWWAuthenticate = "Basic realm=\"Twilio API\"";
            }

            return response.Body.WriteAsync(buffer.WrittenMemory, httpContext.RequestAborted).AsTask();
        }
    }
}
