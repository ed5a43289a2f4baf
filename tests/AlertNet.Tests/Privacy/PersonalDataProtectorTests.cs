using System.Security.Cryptography;
using System.Text;
using AlertNet.Privacy;
using AlertNet.Tests.Support;

namespace AlertNet.Tests.Privacy;

public sealed class PersonalDataProtectorTests
{
    private static PersonalDataProtector NewProtector() =>
        new(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));

    private static readonly CipherPlace Place = CipherPlaces.SubscriberPhone(41);

    [Fact]
    public void A_number_round_trips_and_its_ciphertext_never_contains_it()
    {
        var protector = NewProtector();

        var cipher = protector.Encrypt("+12025550101", Place);

        Assert.Equal("+12025550101", protector.Decrypt(cipher, Place));
        Assert.DoesNotContain("2025550101", Encoding.Latin1.GetString(cipher), StringComparison.Ordinal);
        // Random nonce: the same number encrypts differently each time, so ciphertexts cannot be compared.
        Assert.NotEqual(cipher, protector.Encrypt("+12025550101", Place));
        Assert.Equal(PersonalDataProtector.CurrentFormat, PersonalDataProtector.FormatOfCipher(cipher));
    }

    [Fact]
    public void A_ciphertext_moved_to_another_row_column_or_table_does_not_decrypt()
    {
        var protector = NewProtector();
        var cipher = protector.Encrypt("+12025550101", CipherPlaces.HotlineReporter(7));

        Assert.Equal("+12025550101", protector.Decrypt(cipher, CipherPlaces.HotlineReporter(7)));
        Assert.ThrowsAny<CryptographicException>(() => protector.Decrypt(cipher, CipherPlaces.HotlineReporter(8)));   // another row
        Assert.ThrowsAny<CryptographicException>(() => protector.Decrypt(cipher, CipherPlaces.HotlineText(7)));       // another column
        Assert.ThrowsAny<CryptographicException>(() => protector.Decrypt(cipher, CipherPlaces.SubscriberPhone(7)));   // another table
        Assert.ThrowsAny<CryptographicException>(() => protector.Decrypt(cipher, CipherPlaces.OrganizerPhone(7)));
    }

    [Fact]
    public void Every_number_encrypts_to_the_same_length_whatever_its_country()
    {
        var protector = NewProtector();
        string[] numbers = ["+12025550101", "+442071838750", "+8613800138000", "+35312345678", "+5511987654321", "+123456789012345", "+1"];

        var lengths = numbers.Select(n => protector.Encrypt(n, Place).Length).Distinct().ToList();

        Assert.Equal(2 + 12 + 16 + 32, Assert.Single(lengths));
        Assert.All(numbers, n => Assert.Equal(n, protector.Decrypt(protector.Encrypt(n, Place), Place)));
    }

    [Fact]
    public void Texts_are_padded_to_power_of_two_buckets_so_a_join_and_a_short_report_look_alike()
    {
        var protector = NewProtector();
        var place = CipherPlaces.InboundText(3);
        int Length(string text) => protector.Encrypt(text, place).Length - 30;

        Assert.Equal(64, Length(""));
        Assert.Equal(64, Length("JOIN"));
        Assert.Equal(64, Length("REPORT agents at 5th and Main near the school"));
        Assert.Equal(128, Length(new string('x', 61)));
        Assert.Equal(2048, Length(new string('á', 800)));       // 1,600 UTF-8 bytes
        Assert.Equal(new string('á', 800), protector.Decrypt(protector.Encrypt(new string('á', 800), place), place));
        Assert.Equal("", protector.Decrypt(protector.Encrypt("", place), place));
    }

    [Fact]
    public void Ciphertexts_of_earlier_versions_formats_1_and_2_are_still_read()
    {
        var (key0, key2) = (RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        var ring = new PersonalDataProtector(2, new Dictionary<int, KeyPair>
        {
            [0] = new(key0, RandomNumberGenerator.GetBytes(32)),
            [2] = new(key2, RandomNumberGenerator.GetBytes(32)),
        });
        var format1 = LegacyCiphertext.Encrypt(key0, "+12025550101");
        var format2 = LegacyCiphertext.Encrypt(key2, "+12025550102", keyId: 2);

        Assert.Equal("+12025550101", ring.Decrypt(format1, Place));
        Assert.Equal("+12025550102", ring.Decrypt(format2, Place));
        Assert.Equal((1, 0), (PersonalDataProtector.FormatOfCipher(format1), PersonalDataProtector.KeyIdOfCipher(format1)));
        Assert.Equal((2, 2), (PersonalDataProtector.FormatOfCipher(format2), PersonalDataProtector.KeyIdOfCipher(format2)));
        // Neither is current: rotate-keys rewrites both into format 3.
        Assert.False(ring.IsCurrent(format1) || ring.IsCurrent(format2));
        Assert.True(ring.IsCurrent(ring.Encrypt("+12025550101", Place)));
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
    public void Each_purpose_has_its_own_index_unrelated_to_the_subscriber_blind_index()
    {
        var protector = NewProtector();
        const string number = "+12025550101";

        var hmacs = Enum.GetValues<IndexPurpose>().Select(p => protector.PurposeIndex(p, number)[2..]).Append(protector.BlindIndex(number))
            .Select(Convert.ToHexString).ToList();

        Assert.Equal(hmacs.Count, hmacs.Distinct().Count());
        Assert.Equal(protector.PurposeIndex(IndexPurpose.OrganizerPhone, number), protector.PurposeIndex(IndexPurpose.OrganizerPhone, number));
        var index = protector.PurposeIndex(IndexPurpose.UnknownTextHint, number);
        Assert.Equal((34, 0, (byte)IndexPurpose.UnknownTextHint), (index.Length, PersonalDataProtector.KeyIdOfIndex(index), index[1]));
        Assert.True(protector.IsCurrentPurposeIndex(index, IndexPurpose.UnknownTextHint));
        Assert.False(protector.IsCurrentPurposeIndex(index, IndexPurpose.OrganizerPhone));
        Assert.False(protector.IsCurrentPurposeIndex(protector.BlindIndex(number), IndexPurpose.UnknownTextHint));
    }

    [Fact]
    public void A_tampered_ciphertext_or_header_is_rejected()
    {
        var protector = NewProtector();
        var cipher = protector.Encrypt("+12025550101", Place);
        var body = (byte[])cipher.Clone();
        body[^1] ^= 1;
        var downgraded = (byte[])cipher.Clone();
        downgraded[0] = 2;

        Assert.ThrowsAny<CryptographicException>(() => protector.Decrypt(body, Place));
        Assert.ThrowsAny<CryptographicException>(() => protector.Decrypt(downgraded, Place));
    }

    [Fact]
    public void During_a_rotation_the_ring_reads_every_key_and_writes_with_the_current_one_which_each_ciphertext_and_index_names()
    {
        var original = new KeyPair(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        var next = new KeyPair(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        var before = new PersonalDataProtector(original.EncryptionKey!, original.BlindIndexKey);
        var ring = new PersonalDataProtector(7, new Dictionary<int, KeyPair> { [0] = original, [7] = next });
        var oldCipher = before.Encrypt("+12025550101", Place);

        var newCipher = ring.Encrypt("+12025550101", Place);

        Assert.Equal("+12025550101", ring.Decrypt(oldCipher, Place));
        Assert.Equal("+12025550101", ring.Decrypt(newCipher, Place));
        Assert.Equal(0, PersonalDataProtector.KeyIdOfCipher(oldCipher));
        Assert.Equal(7, PersonalDataProtector.KeyIdOfCipher(newCipher));
        Assert.Equal(7, PersonalDataProtector.KeyIdOfIndex(ring.BlindIndex("+12025550101")));
        Assert.Equal(0, PersonalDataProtector.KeyIdOfIndex(before.BlindIndex("+12025550101")));
        Assert.Equal(7, PersonalDataProtector.KeyIdOfIndex(ring.PurposeIndex(IndexPurpose.OrganizerPhone, "+12025550101")));
        // The old indexes are still computable, so rows under them can be found and moved.
        Assert.Equal(before.BlindIndex("+12025550101"), Assert.Single(ring.OlderBlindIndexes("+12025550101")));
        Assert.Equal(before.PurposeIndex(IndexPurpose.OrganizerPhone, "+12025550101"),
            Assert.Single(ring.OlderPurposeIndexes(IndexPurpose.OrganizerPhone, "+12025550101")));
        Assert.NotEqual(before.BlindIndex("+12025550101"), ring.BlindIndex("+12025550101"));
        Assert.True(ring.HasOlderKeys);

        // Once the old key is gone from the ring, its ciphertext is unreadable, and says which key it needs.
        var after = new PersonalDataProtector(7, new Dictionary<int, KeyPair> { [7] = next });
        Assert.Equal("+12025550101", after.Decrypt(newCipher, Place));
        Assert.Contains("key 0", Assert.ThrowsAny<CryptographicException>(() => after.Decrypt(oldCipher, Place)).Message, StringComparison.Ordinal);
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
            // Marked, so live mode refuses it (KeyCustodyTests).
            Assert.Contains("\"drill\": true", File.ReadAllText(path), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
