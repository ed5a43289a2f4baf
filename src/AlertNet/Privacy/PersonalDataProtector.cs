using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace AlertNet.Privacy;

/// <summary>One generation of keys: AES-256 for ciphertext (null when only old blind indexes are still
/// looked up with it) and HMAC-SHA256 for the blind index.</summary>
public sealed record KeyPair(byte[]? EncryptionKey, byte[] BlindIndexKey);

/// <summary>What a purpose-specific index is for. Each purpose has its own HMAC key, derived from the
/// blind-index key (HKDF, the purpose's name as info), so equal numbers in two tables of different purposes
/// have unrelated indexes and a dump cannot join them. The value is the index's second byte: never change one.</summary>
public enum IndexPurpose
{
    /// <summary>organizer_phones.phone_index: an inbound text finds its organizer phone.</summary>
    OrganizerPhone = 1,

    /// <summary>unknown_text_hints.phone_index: at most one "we did not understand" hint a day per number.</summary>
    UnknownTextHint = 2,

    /// <summary>inbound_messages.sid_hash: a repeated MessageSid is processed once, without keeping the SID.</summary>
    InboundMessageSid = 3,

    /// <summary>sender_budgets.sender_index: replies and reports one number may cause in an hour.</summary>
    SenderBudget = 4,
}

/// <summary>Encrypts phone numbers and subscriber texts (AES-256-GCM) and computes their blind index (HMAC-SHA256), so the
/// database can find a subscriber by number without ever holding the number in clear.
/// Keys form a ring for rotation: the current key writes, every key in the ring reads. Each ciphertext and
/// index says which key made it.
/// Ciphertext formats: 1 (key 0, written before key rotation existed: 1, nonce, tag, text) and 2 (2, N, nonce, tag,
/// text) are still read; 3 is written: 3, N, nonce, tag, then the padded text, with associated data naming the
/// ciphertext's place (table, column, row key, <see cref="CipherPlace"/>), so a ciphertext copied to another row or
/// column does not decrypt, and its length says nothing but the padding bucket (numbers: one length for all).
/// Index formats: the subscriber blind index (subscribers, opt_outs) is the bare 32-byte HMAC under key 0 and one byte N
/// followed by the HMAC under key N; a purpose-specific index (<see cref="IndexPurpose"/>) is N, the purpose, then
/// the HMAC under that purpose's derived key (34 bytes, any key).</summary>
public sealed class PersonalDataProtector
{
    public const byte CurrentFormat = 3;

    private const byte LegacyFormat = 1;
    private const byte KeyedFormat = 2;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int HmacSize = 32;
    private const int PurposeIndexSize = HmacSize + 2;
    private const int LengthPrefix = 4;

    private readonly IReadOnlyDictionary<int, KeyPair> _keys;
    private readonly Dictionary<(int KeyId, IndexPurpose Purpose), byte[]> _purposeKeys = [];

    /// <summary>A single key (id 0), as before key rotation.</summary>
    public PersonalDataProtector(byte[] encryptionKey, byte[] blindIndexKey)
        : this(0, new Dictionary<int, KeyPair> { [0] = new(encryptionKey, blindIndexKey) })
    {
    }

    public PersonalDataProtector(int currentKeyId, IReadOnlyDictionary<int, KeyPair> keys)
    {
        if (!keys.TryGetValue(currentKeyId, out var current) || current.EncryptionKey is null)
        {
            throw new ArgumentException($"The current key {currentKeyId} needs an encryption and a blind-index key.");
        }

        foreach (var (id, pair) in keys)
        {
            if (id is < 0 or > 255)
            {
                throw new ArgumentException($"Key id {id}: key ids are 0 to 255.");
            }

            if (pair.BlindIndexKey.Length != 32 || pair.EncryptionKey is { Length: not 32 })
            {
                throw new ArgumentException("Encryption and blind-index keys must be 32 bytes each.");
            }

            if (pair.EncryptionKey is { } encryption && encryption.AsSpan().SequenceEqual(pair.BlindIndexKey))
            {
                throw new ArgumentException("The encryption key and the blind-index key must differ.");
            }

            foreach (var purpose in Enum.GetValues<IndexPurpose>())
            {
                _purposeKeys[(id, purpose)] = HKDF.DeriveKey(HashAlgorithmName.SHA256, pair.BlindIndexKey, HmacSize, salt: [],
                    info: Encoding.UTF8.GetBytes("alertnet index: " + purpose));
            }
        }

        CurrentKeyId = currentKeyId;
        _keys = keys;
    }

    public int CurrentKeyId { get; }

    /// <summary>True while older keys are in the ring: data may still be under them (a rotation is going on
    /// or has left opt-outs of people no longer subscribed).</summary>
    public bool HasOlderKeys => _keys.Count > 1;

    public IEnumerable<int> OlderKeyIds => _keys.Keys.Where(id => id != CurrentKeyId).Order();

    public bool CanDecryptWith(int keyId) => _keys.TryGetValue(keyId, out var pair) && pair.EncryptionKey is not null;

    /// <summary>The subscriber blind index of an E.164 number under the current key (subscribers, opt_outs).
    /// Deterministic, so equal numbers match; keyed, so a list of indexes cannot be reversed by hashing every
    /// possible number. Any other per-number record takes a <see cref="PurposeIndex(IndexPurpose, string)"/>.</summary>
    public byte[] BlindIndex(string e164) => BlindIndex(e164, CurrentKeyId);

    /// <summary>The number's index under every older key in the ring: where its rows may still be during a rotation.</summary>
    public byte[][] OlderBlindIndexes(string e164) => OlderKeyIds.Select(id => BlindIndex(e164, id)).ToArray();

    public byte[] BlindIndex(string e164, int keyId)
    {
        var hmac = HMACSHA256.HashData(_keys[keyId].BlindIndexKey, Encoding.UTF8.GetBytes(e164));
        return keyId == 0 ? hmac : [(byte)keyId, .. hmac];
    }

    /// <summary>The index of a value for one purpose under the current key: unrelated to the subscriber blind index
    /// and to every other purpose's index of the same value.</summary>
    public byte[] PurposeIndex(IndexPurpose purpose, string value) => PurposeIndex(purpose, value, CurrentKeyId);

    public byte[][] OlderPurposeIndexes(IndexPurpose purpose, string value) =>
        OlderKeyIds.Select(id => PurposeIndex(purpose, value, id)).ToArray();

    public byte[] PurposeIndex(IndexPurpose purpose, string value, int keyId) =>
        [(byte)keyId, (byte)purpose, .. HMACSHA256.HashData(_purposeKeys[(keyId, purpose)], Encoding.UTF8.GetBytes(value))];

    /// <summary>True when an index is the current key's index for this purpose (not the shared blind index, not an older key).</summary>
    public bool IsCurrentPurposeIndex(byte[] index, IndexPurpose purpose) =>
        index.Length == PurposeIndexSize && index[0] == CurrentKeyId && index[1] == (byte)purpose;

    public static int KeyIdOfIndex(byte[] index) => index.Length == HmacSize ? 0 : index[0];

    public static int KeyIdOfCipher(byte[] cipher) => cipher.Length > 1 && cipher[0] != LegacyFormat ? cipher[1] : 0;

    public static int FormatOfCipher(byte[] cipher) => cipher.Length > 0 ? cipher[0] : 0;

    /// <summary>True when a ciphertext needs nothing from rotation: the current format (bound to its place) under the current key.</summary>
    public bool IsCurrent(byte[] cipher) => FormatOfCipher(cipher) == CurrentFormat && KeyIdOfCipher(cipher) == CurrentKeyId;

    /// <summary>Encrypts a text for one place (format 3): only a decryption naming the same place reads it.</summary>
    public byte[] Encrypt(string plaintext, CipherPlace place)
    {
        var text = Encoding.UTF8.GetBytes(plaintext);
        var padded = new byte[place.PaddedLength(text.Length)];
        BinaryPrimitives.WriteInt32BigEndian(padded, text.Length);
        text.CopyTo(padded, LengthPrefix);

        const int header = 2;
        var output = new byte[header + NonceSize + TagSize + padded.Length];
        output[0] = CurrentFormat;
        output[1] = (byte)CurrentKeyId;
        var nonce = output.AsSpan(header, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_keys[CurrentKeyId].EncryptionKey!, TagSize);
        aes.Encrypt(nonce, padded, output.AsSpan(header + NonceSize + TagSize), output.AsSpan(header + NonceSize, TagSize),
            AssociatedData(output[0], output[1], place));
        return output;
    }

    /// <summary>Decrypts a ciphertext read from <paramref name="place"/>. A format-3 ciphertext made for another place
    /// (another row, column or table) fails the authentication; formats 1 and 2 were written before places
    /// existed and decrypt anywhere until rotate-keys rewrites them.</summary>
    public string Decrypt(byte[] cipher, CipherPlace place)
    {
        var (header, keyId) = FormatOfCipher(cipher) switch
        {
            LegacyFormat => (1, 0),
            KeyedFormat or CurrentFormat when cipher.Length > 1 => (2, (int)cipher[1]),
            _ => throw new CryptographicException("Unknown ciphertext format."),
        };
        if (cipher.Length < header + NonceSize + TagSize)
        {
            throw new CryptographicException("Unknown ciphertext format.");
        }

        if (!_keys.TryGetValue(keyId, out var pair) || pair.EncryptionKey is null)
        {
            throw new CryptographicException($"Ciphertext made with key {keyId}, which is not in the key ring.");
        }

        var plain = new byte[cipher.Length - header - NonceSize - TagSize];
        using var aes = new AesGcm(pair.EncryptionKey, TagSize);
        var associated = cipher[0] == CurrentFormat ? AssociatedData(cipher[0], cipher[1], place) : null;
        aes.Decrypt(cipher.AsSpan(header, NonceSize), cipher.AsSpan(header + NonceSize + TagSize), cipher.AsSpan(header + NonceSize, TagSize), plain,
            associated);
        if (cipher[0] != CurrentFormat)
        {
            return Encoding.UTF8.GetString(plain);
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(plain);
        return length >= 0 && length <= plain.Length - LengthPrefix
            ? Encoding.UTF8.GetString(plain, LengthPrefix, length)
            : throw new CryptographicException("Unknown ciphertext format.");
    }

    /// <summary>The only form in which a number may appear on a screen: <c>••• ••• 1234</c>.</summary>
    public static string Mask(string e164) => e164.Length <= 4 ? "•••" : "••• ••• " + e164[^4..];

    /// <summary>The header (format and key id, so neither can be changed) followed by the place's name.</summary>
    private static byte[] AssociatedData(byte format, byte keyId, CipherPlace place) =>
        [format, keyId, .. Encoding.UTF8.GetBytes($"alertnet|{place.Table}|{place.Column}|{place.RowKey}")];
}
