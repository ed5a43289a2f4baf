using System.Security.Cryptography;
using System.Text;

namespace AlertNet.Privacy;

/// <summary>One generation of keys: AES-256 for ciphertext (null when only old blind indexes are still
/// looked up with it) and HMAC-SHA256 for the blind index.</summary>
public sealed record KeyPair(byte[]? EncryptionKey, byte[] BlindIndexKey);

/// <summary>Encrypts phone numbers and subscriber texts (AES-256-GCM) and computes their blind index (HMAC-SHA256), so the
/// database can find a subscriber by number without ever holding the number in clear.
/// Keys form a ring for rotation: the current key writes, every key in the ring reads. Each ciphertext and
/// blind index says which key made it. Key 0 is the original single key, whose formats carry no id
/// (format-1 ciphertext, a bare 32-byte index), so data written before key rotation existed stays valid:
/// key N >= 1 writes format 2 (2, N, nonce, tag, text) and indexes of one byte N followed by the HMAC.</summary>
public sealed class PersonalDataProtector
{
    private const byte LegacyFormat = 1;
    private const byte KeyedFormat = 2;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int HmacSize = 32;

    private readonly IReadOnlyDictionary<int, KeyPair> _keys;

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

    /// <summary>The lookup key of an E.164 number under the current key. Deterministic, so equal numbers match;
    /// keyed, so a list of indexes cannot be reversed by hashing every possible number.</summary>
    public byte[] BlindIndex(string e164) => BlindIndex(e164, CurrentKeyId);

    /// <summary>The number's index under every older key in the ring: where its rows may still be during a rotation.</summary>
    public byte[][] OlderBlindIndexes(string e164) => OlderKeyIds.Select(id => BlindIndex(e164, id)).ToArray();

    public byte[] BlindIndex(string e164, int keyId)
    {
        var hmac = HMACSHA256.HashData(_keys[keyId].BlindIndexKey, Encoding.UTF8.GetBytes(e164));
        return keyId == 0 ? hmac : [(byte)keyId, .. hmac];
    }

    public static int KeyIdOfIndex(byte[] index) => index.Length == HmacSize ? 0 : index[0];

    public static int KeyIdOfCipher(byte[] cipher) => cipher.Length > 1 && cipher[0] == KeyedFormat ? cipher[1] : 0;

    public byte[] Encrypt(string plaintext)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var header = CurrentKeyId == 0 ? 1 : 2;
        var output = new byte[header + NonceSize + TagSize + plain.Length];
        output[0] = CurrentKeyId == 0 ? LegacyFormat : KeyedFormat;
        if (CurrentKeyId != 0)
        {
            output[1] = (byte)CurrentKeyId;
        }

        var nonce = output.AsSpan(header, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_keys[CurrentKeyId].EncryptionKey!, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(header + NonceSize + TagSize), output.AsSpan(header + NonceSize, TagSize));
        return output;
    }

    public string Decrypt(byte[] cipher)
    {
        var (header, keyId) = cipher.Length > 0 && cipher[0] == KeyedFormat && cipher.Length > 1 ? (2, (int)cipher[1])
            : cipher.Length > 0 && cipher[0] == LegacyFormat ? (1, 0)
            : throw new CryptographicException("Unknown ciphertext format.");
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
        aes.Decrypt(cipher.AsSpan(header, NonceSize), cipher.AsSpan(header + NonceSize + TagSize), cipher.AsSpan(header + NonceSize, TagSize), plain);
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>The only form in which a number may appear on a screen: <c>••• ••• 1234</c>.</summary>
    public static string Mask(string e164) => e164.Length <= 4 ? "•••" : "••• ••• " + e164[^4..];
}
