namespace AlertNet.Delivery;

/// <summary>The "WhatsApp" configuration section.</summary>
public sealed class WhatsAppOptions
{
    public const string Section = "WhatsApp";

    /// <summary>Approved Content templates (ContentSid "HX…") by alert type, then language, e.g.
    /// WhatsApp:Templates:urgent:es. The template's variable {{1}} receives the alert text. Outside the
    /// 24-hour session window WhatsApp accepts only these.</summary>
    public Dictionary<string, Dictionary<string, string>> Templates { get; set; } = new(StringComparer.Ordinal);

    public string? TemplateFor(string alertType, string language) =>
        Templates.TryGetValue(alertType, out var byLanguage) && byLanguage.TryGetValue(language, out var sid) ? sid : null;
}
