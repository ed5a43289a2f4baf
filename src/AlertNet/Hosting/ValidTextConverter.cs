using System.Text.Json;
using System.Text.Json.Serialization;

namespace AlertNet.Hosting;

/// <summary>Refuses the NUL character (U+0000) and lone UTF-16 surrogates in every JSON string and dictionary key of an
/// API request. PostgreSQL cannot store NUL in text or jsonb, so a "\u0000" in an alert body, a group name or a
/// campaign cron was a 500; a lone surrogate ("\ud800") was stored as U+FFFD, not as sent. Now either is a 400 before
/// any handler sees it. No real text contains them.</summary>
public sealed class ValidTextConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Checked(reader.GetString());

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value);
    }

    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Checked(reader.GetString())!;

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WritePropertyName(value);
    }

    private static string? Checked(string? text)
    {
        if (text is null)
        {
            return null;
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new JsonException("Text may not contain the NUL character (U+0000).");
        }

        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                throw new JsonException("Text may not contain a lone UTF-16 surrogate.");
            }
        }

        return text;
    }
}
