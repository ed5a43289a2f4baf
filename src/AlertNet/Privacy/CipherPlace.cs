using System.Globalization;
using System.Numerics;

namespace AlertNet.Privacy;

/// <summary>How a plaintext is padded before encryption, so a ciphertext's length says little about it.</summary>
public enum CipherPadding
{
    /// <summary>A phone number: always 32 bytes, so length does not hint at the country.</summary>
    Number,

    /// <summary>A short secret (a TOTP key): always 64 bytes.</summary>
    Secret,

    /// <summary>A free text: the next power of two, at least 64 bytes (a JOIN and a short report look alike).</summary>
    Text,
}

/// <summary>Where a ciphertext lives: table, column and the row's key, bound to it as AES-GCM associated data. Row
/// keys are known before the INSERT (ids are taken from the table's sequence first) and never change, so key
/// rotation and index moves leave them alone.</summary>
public sealed record CipherPlace(string Table, string Column, string RowKey, CipherPadding Padding)
{
    private const int LengthPrefix = 4;

    /// <summary>The padded plaintext length (length prefix included) for a text of <paramref name="length"/> UTF-8 bytes.</summary>
    public int PaddedLength(int length) => Padding switch
    {
        CipherPadding.Number when length + LengthPrefix <= 32 => 32,
        CipherPadding.Secret when length + LengthPrefix <= 64 => 64,
        CipherPadding.Text => (int)Math.Max(64, BitOperations.RoundUpToPowerOf2((uint)(length + LengthPrefix))),
        _ => throw new ArgumentException($"{Table}.{Column} holds at most {(Padding == CipherPadding.Number ? 28 : 60)} bytes."),
    };
}

/// <summary>Every place AlertNet encrypts something. Key rotation re-encrypts each of them
/// (<see cref="KeyRotation.EncryptedColumns"/>); a test fails when a table gets a *_cipher column not listed there.</summary>
public static class CipherPlaces
{
    public static CipherPlace SubscriberPhone(long id) => Row("subscribers", "phone_cipher", id, CipherPadding.Number);

    public static CipherPlace HotlineReporter(long id) => Row("hotline_reports", "reporter_cipher", id, CipherPadding.Number);

    public static CipherPlace HotlineText(long id) => Row("hotline_reports", "body_cipher", id, CipherPadding.Text);

    public static CipherPlace OrganizerPhone(long id) => Row("organizer_phones", "phone_cipher", id, CipherPadding.Number);

    public static CipherPlace SmsAlertDraft(long id) => Row("pending_sms_alerts", "body_cipher", id, CipherPadding.Text);

    public static CipherPlace InboundText(long id) => Row("inbound_messages", "body_cipher", id, CipherPadding.Text);

    public static CipherPlace ReplyNumber(long id) => Row("outbound_replies", "to_cipher", id, CipherPadding.Number);

    public static CipherPlace ReplyText(long id) => Row("outbound_replies", "body_cipher", id, CipherPadding.Text);

    public static CipherPlace TotpSecret(long userId) => Row("users", "totp_secret_cipher", userId, CipherPadding.Secret);

    /// <summary>A data-protection key's XML. ASP.NET Core's encryptor is not told which row (or key id) it encrypts
    /// for, so this ciphertext is bound to its table and column only.</summary>
    public static readonly CipherPlace DataProtectionKey = new("data_protection_keys", "xml", "", CipherPadding.Text);

    private static CipherPlace Row(string table, string column, long id, CipherPadding padding) =>
        new(table, column, id.ToString(CultureInfo.InvariantCulture), padding);
}

/// <summary>A row's id before its INSERT, so its ciphertexts can be bound to it (the INSERT then says
/// <c>OVERRIDING SYSTEM VALUE</c>). A value taken and not used leaves a gap in the ids, nothing more.</summary>
public static class RowIds
{
    /// <param name="table">A constant table name of AlertNet's schema, never input.</param>
    public static Task<long> NextAsync(Npgsql.NpgsqlConnection connection, Npgsql.NpgsqlTransaction? transaction, string table,
        CancellationToken cancellationToken) =>
        Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, new Dapper.CommandDefinition(
            "SELECT nextval(pg_get_serial_sequence(@table, 'id'))", new { table }, transaction, cancellationToken: cancellationToken));
}
