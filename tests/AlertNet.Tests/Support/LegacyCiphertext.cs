using System.Security.Cryptography;
using System.Text;

namespace AlertNet.Tests.Support;

/// <summary>Ciphertexts as AlertNet wrote them before format 3 (migration 0020): no associated data, no padding.
/// Format 1 under key 0 (1, nonce, tag, text), format 2 under key N (2, N, nonce, tag, text). Written here from the
/// format's description, not with the code under test, so a test can seed a database of an earlier version.</summary>
public static class LegacyCiphertext
{
    public static byte[] Encrypt(byte[] key, string plaintext, int keyId = 0)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var header = keyId == 0 ? 1 : 2;
        var output = new byte[header + 12 + 16 + plain.Length];
        output[0] = (byte)(keyId == 0 ? 1 : 2);
        if (keyId != 0)
        {
            output[1] = (byte)keyId;
        }

        RandomNumberGenerator.Fill(output.AsSpan(header, 12));
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(output.AsSpan(header, 12), plain, output.AsSpan(header + 28), output.AsSpan(header + 12, 16));
        return output;
    }

    /// <summary>The subscriber blind index as every version wrote it: the bare HMAC under key 0, the key id then the HMAC under key N.</summary>
    public static byte[] BlindIndex(byte[] key, string e164, int keyId = 0)
    {
        var hmac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(e164));
        return keyId == 0 ? hmac : [(byte)keyId, .. hmac];
    }
}
