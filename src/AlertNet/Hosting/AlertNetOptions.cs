using System.ComponentModel.DataAnnotations;

namespace AlertNet.Hosting;

/// <summary>The "AlertNet" configuration section.</summary>
public sealed class AlertNetOptions
{
    public const string Section = "AlertNet";

    /// <summary>web (HTTP only), worker (Hangfire server only) or all.</summary>
    [Required]
    [RegularExpression("^(web|worker|all)$", ErrorMessage = "AlertNet:Role must be web, worker or all.")]
    public string Role { get; set; } = "all";

    /// <summary>auto (drill unless Twilio credentials are set), drill, or live.</summary>
    [Required]
    [RegularExpression("^(auto|drill|live)$", ErrorMessage = "AlertNet:Mode must be auto, drill or live.")]
    public string Mode { get; set; } = "auto";

    /// <summary>The address Twilio reaches AlertNet at. Callback URLs and webhook signatures use it,
    /// never the (possibly proxied) request URL.</summary>
    [Required]
    [Url]
    public string PublicBaseUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Name carriers require in confirmation texts.</summary>
    [Required]
    public string ProgramName { get; set; } = "AlertNet";

    /// <summary>The organization named in HELP replies; the program name when unset.</summary>
    public string? OrganizationName { get; set; }

    /// <summary>How to reach the organization (phone, e-mail or web address), given in HELP replies as
    /// carriers require. Needed in live mode.</summary>
    public string? ContactInfo { get; set; }

    [Required]
    public string DefaultLanguage { get; set; } = "en";

    /// <summary>JSON file with encryptionKey and blindIndexKey (base64, 32 bytes each), and keyId and oldKeys.
    /// In drill mode a file is generated on first start when none is configured (marked "drill": true, which live
    /// mode refuses). Privacy/KeyCustody.cs says which source wins.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Base64 AES-256 key; takes precedence over KeyFile. Not together with EncryptionKeyFile.</summary>
    public string? EncryptionKey { get; set; }

    /// <summary>A file holding only the base64 AES-256 key (a mounted secret); takes precedence over KeyFile.</summary>
    public string? EncryptionKeyFile { get; set; }

    /// <summary>Base64 HMAC-SHA256 key for the phone-number blind index; takes precedence over KeyFile. Not together
    /// with BlindIndexKeyFile.</summary>
    public string? BlindIndexKey { get; set; }

    /// <summary>A file holding only the base64 blind-index key (a mounted secret, kept apart from the encryption key's).</summary>
    public string? BlindIndexKeyFile { get; set; }

    /// <summary>Id (0 to 255) of EncryptionKey and BlindIndexKey: the current key, which writes. 0 is the
    /// original key; a rotation moves the current key to OldKeys and sets a new one with a new id.</summary>
    [Range(0, 255)]
    public int KeyId { get; set; }

    /// <summary>Earlier keys by id, still read during a rotation (Privacy/KeyRotation.cs). An entry may keep
    /// only its BlindIndexKey, for opt-outs of people no longer subscribed.</summary>
    public Dictionary<string, OldKeyOptions> OldKeys { get; set; } = [];

    /// <summary>Region used to read numbers written without a country code.</summary>
    [Required]
    public string DefaultRegion { get; set; } = "US";

    public bool RunsWeb => Role is "web" or "all";

    public bool RunsWorker => Role is "worker" or "all";

    public Uri PublicUri => new(PublicBaseUrl.TrimEnd('/') + "/");
}

/// <summary>An earlier key in AlertNet:OldKeys:{id}.</summary>
public sealed class OldKeyOptions
{
    public string? EncryptionKey { get; set; }

    /// <summary>Instead of EncryptionKey: a file holding it (a mounted secret).</summary>
    public string? EncryptionKeyFile { get; set; }

    public string? BlindIndexKey { get; set; }

    /// <summary>Instead of BlindIndexKey: a file holding it (a mounted secret).</summary>
    public string? BlindIndexKeyFile { get; set; }
}
