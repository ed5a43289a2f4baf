using System.Security.Cryptography;
using System.Text;

namespace AlertNet.Privacy;

/// <summary>Encrypts phone numbers and subscriber texts (AES-256-GCM) and computes their blind index (HMAC-SHA256), so the
/// database can find a subscriber by number without ever holding the number in clear.</summary>
public sealed class PersonalDataProtector
{
    private const byte FormatVersion = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[] _encryptionKey;
    private readonly byte[] _blindIndexKey;

    public PersonalDataProtector(byte[] encryptionKey, byte[] blindIndexKey)
    {
        if (encryptionKey.Length != 32 || blindIndexKey.Length != 32)
        {
            throw new ArgumentException("Encryption and blind-index keys must be 32 bytes each.");
        }

        if (encryptionKey.AsSpan().SequenceEqual(blindIndexKey))
        {
            throw new ArgumentException("The encryption key and the blind-index key must differ.");
        }

        _encryptionKey = encryptionKey;
        _blindIndexKey = blindIndexKey;
    }

    /// <summary>The lookup key of an E.164 number. Deterministic, so equal numbers match; keyed, so a
    /// list of indexes cannot be reversed by hashing every possible number.</summary>
    public byte[] BlindIndex(string e164) => HMACSHA256.HashData(_blindIndexKey, Encoding.UTF8.GetBytes(e164));

    public byte[] Encrypt(string plaintext)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[1 + NonceSize + TagSize + plain.Length];
        output[0] = FormatVersion;
        var nonce = output.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_encryptionKey, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(1 + NonceSize + TagSize), output.AsSpan(1 + NonceSize, TagSize));
        return output;
    }

    public string Decrypt(byte[] cipher)
    {
        if (cipher.Length < 1 + NonceSize + TagSize || cipher[0] != FormatVersion)
        {
            throw new CryptographicException("Unknown ciphertext format.");
        }

        var plain = new byte[cipher.Length - 1 - NonceSize - TagSize];
        using var aes = new AesGcm(_encryptionKey, TagSize);
        aes.Decrypt(cipher.AsSpan(1, NonceSize), cipher.AsSpan(1 + NonceSize + TagSize), cipher.AsSpan(1 + NonceSize, TagSize), plain);
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>The only form in which a number may appear on a screen: <c>••• ••• 1234</c>.</summary>
    public static string Mask(string e164) => e164.Length <= 4 ? "•••" : "••• ••• " + e164[^4..];
}
