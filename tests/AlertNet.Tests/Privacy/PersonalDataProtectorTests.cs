using System.Security.Cryptography;
using System.Text;
using AlertNet.Privacy;

namespace AlertNet.Tests.Privacy;

public sealed class PersonalDataProtectorTests
{
    private static PersonalDataProtector NewProtector() =>
        new(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void A_number_round_trips_and_its_ciphertext_never_contains_it()
    {
        var protector = NewProtector();

        var cipher = protector.Encrypt("+12025550101");

        Assert.Equal("+12025550101", protector.Decrypt(cipher));
        Assert.DoesNotContain("2025550101", Encoding.Latin1.GetString(cipher), StringComparison.Ordinal);
        // Random nonce: the same number encrypts differently each time, so ciphertexts cannot be compared.
        Assert.NotEqual(cipher, protector.Encrypt("+12025550101"));
    }

    [Fact]
    public void The_blind_index_matches_equal_numbers_and_depends_on_the_key()
    {
        var protector = NewProtector();

        Assert.Equal(protector.BlindIndex("+12025550101"), protector.BlindIndex("+12025550101"));
        Assert.NotEqual(protector.BlindIndex("+12025550101"), protector.BlindIndex("+12025550102"));
        Assert.NotEqual(protector.BlindIndex("+12025550101"), NewProtector().BlindIndex("+12025550101"));
    }

    [Fact]
    public void A_tampered_ciphertext_is_rejected()
    {
        var protector = NewProtector();
        var cipher = protector.Encrypt("+12025550101");
        cipher[^1] ^= 1;

        Assert.ThrowsAny<CryptographicException>(() => protector.Decrypt(cipher));
    }

    [Fact]
    public void During_a_rotation_the_ring_reads_every_key_and_writes_with_the_current_one_which_each_ciphertext_and_index_names()
    {
        var original = new KeyPair(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        var next = new KeyPair(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        var before = new PersonalDataProtector(original.EncryptionKey!, original.BlindIndexKey);
        var ring = new PersonalDataProtector(7, new Dictionary<int, KeyPair> { [0] = original, [7] = next });
        var oldCipher = before.Encrypt("+12025550101");

        var newCipher = ring.Encrypt("+12025550101");

        Assert.Equal("+12025550101", ring.Decrypt(oldCipher));
        Assert.Equal("+12025550101", ring.Decrypt(newCipher));
        Assert.Equal(0, PersonalDataProtector.KeyIdOfCipher(oldCipher));
        Assert.Equal(7, PersonalDataProtector.KeyIdOfCipher(newCipher));
        Assert.Equal(7, PersonalDataProtector.KeyIdOfIndex(ring.BlindIndex("+12025550101")));
        Assert.Equal(0, PersonalDataProtector.KeyIdOfIndex(before.BlindIndex("+12025550101")));
        // The old index is still computable, so rows under it can be found and moved.
        Assert.Equal(before.BlindIndex("+12025550101"), Assert.Single(ring.OlderBlindIndexes("+12025550101")));
        Assert.NotEqual(before.BlindIndex("+12025550101"), ring.BlindIndex("+12025550101"));
        Assert.True(ring.HasOlderKeys);

        // Once the old key is gone from the ring, its ciphertext is unreadable, and says which key it needs.
        var after = new PersonalDataProtector(7, new Dictionary<int, KeyPair> { [7] = next });
        Assert.Equal("+12025550101", after.Decrypt(newCipher));
        Assert.Contains("key 0", Assert.ThrowsAny<CryptographicException>(() => after.Decrypt(oldCipher)).Message, StringComparison.Ordinal);
        Assert.False(after.HasOlderKeys);
    }

    [Fact]
    public void Screens_see_only_the_last_four_digits()
    {
        Assert.Equal("••• ••• 0101", PersonalDataProtector.Mask("+12025550101"));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void The_drill_key_file_is_created_private_and_reused()
    {
        var path = Path.Combine(Path.GetTempPath(), "alertnet-test-" + Guid.NewGuid().ToString("N"), "keys.json");
        try
        {
            var first = KeyFile.ReadOrCreateForDrill(path);
            var second = KeyFile.ReadOrCreateForDrill(path);

            Assert.Equal(first, second);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.NotEqual(first.EncryptionKey, first.BlindIndexKey);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
