namespace AlertNet.Infrastructure.Twilio.Drill;

/// <summary>
/// Counts SMS segments the way carriers split a body, so the simulated <c>num_segments</c> matches what Twilio
/// would bill: GSM-7 fits 160 septets (153 per part), and one character outside GSM-7 turns the whole body into
/// UCS-2 with 70 code units (67 per part).
/// </summary>
internal static class SmsSegments
{
    private const string Gsm7Basic =
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

    // These take an escape septet plus their own, so they count twice.
    private const string Gsm7Extension = "^{}\\[]~|€\f";

    public static int Count(string? body)
    {
        if (string.IsNullOrEmpty(body))
        {
            return 1;
        }

        var septets = 0;
        foreach (var character in body)
        {
            if (Gsm7Basic.Contains(character, StringComparison.Ordinal))
            {
                septets++;
            }
            else if (Gsm7Extension.Contains(character, StringComparison.Ordinal))
            {
                septets += 2;
            }
            else
            {
                return Parts(body.Length, single: 70, multi: 67);
            }
        }

        return Parts(septets, single: 160, multi: 153);
    }

    private static int Parts(int units, int single, int multi) =>
        units <= single ? 1 : (units + multi - 1) / multi;
}
