using AlertNet.Hosting;

namespace AlertNet.Privacy;

/// <summary>Where the keys come from: configuration or files (mounted secrets), never the database. The encryption key and
/// the blind-index key are found separately, each in the first place that has it:
/// AlertNet:EncryptionKey or AlertNet:EncryptionKeyFile (a file holding only the base64 key; one of the two, not both),
/// else the combined AlertNet:KeyFile; the same for the blind-index key. So they can live in different secret stores.
/// The key id and the old keys come from where the encryption key comes from (AlertNet:KeyId and AlertNet:OldKeys, or
/// the key file's keyId and oldKeys). Only drill mode generates keys, into a key file marked as a drill file, and
/// live mode refuses such a file. Error messages name the setting and the file, never a key.</summary>
public static class KeyCustody
{
    public static PersonalDataProtector Load(AlertNetOptions options, bool isDrill)
    {
        var encryption = FromValueOrFile("AlertNet:EncryptionKey", options.EncryptionKey, "AlertNet:EncryptionKeyFile", options.EncryptionKeyFile);
        var blindIndex = FromValueOrFile("AlertNet:BlindIndexKey", options.BlindIndexKey, "AlertNet:BlindIndexKeyFile", options.BlindIndexKeyFile);
        var (keyId, oldKeys) = (options.KeyId, options.OldKeys);
        if (encryption is null || blindIndex is null)
        {
            var (file, path) = ReadKeyFile(options, isDrill);
            if (encryption is null)
            {
                encryption = Decode(file.EncryptionKey, $"encryptionKey of AlertNet:KeyFile {path}");
                if (options.KeyId != 0 || options.OldKeys.Count > 0)
                {
                    throw new InvalidOperationException(
                        $"AlertNet:KeyId or AlertNet:OldKeys is set, but the encryption key comes from AlertNet:KeyFile {path}, whose " +
                        "keyId and oldKeys apply: set the key id and the old keys in one place.");
                }

                (keyId, oldKeys) = (file.KeyId, file.OldKeys ?? []);
            }

            blindIndex ??= Decode(file.BlindIndexKey, $"blindIndexKey of AlertNet:KeyFile {path}");
        }

        var ring = new Dictionary<int, KeyPair> { [keyId] = new(encryption, blindIndex) };
        foreach (var (id, old) in oldKeys)
        {
            var setting = $"AlertNet:OldKeys:{id}";
            var oldIndex = FromValueOrFile(setting + ":BlindIndexKey", old.BlindIndexKey, setting + ":BlindIndexKeyFile", old.BlindIndexKeyFile);
            if (!int.TryParse(id, out var oldId) || oldId == keyId || oldIndex is null)
            {
                throw new InvalidOperationException(
                    $"{setting} needs a numeric id other than the current key id ({keyId}) and a BlindIndexKey (or BlindIndexKeyFile).");
            }

            ring[oldId] = new(FromValueOrFile(setting + ":EncryptionKey", old.EncryptionKey, setting + ":EncryptionKeyFile", old.EncryptionKeyFile),
                oldIndex);
        }

        try
        {
            return new PersonalDataProtector(keyId, ring);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException("The configured keys cannot be used: " + e.Message, e);
        }
    }

    /// <summary>The combined key file: read in live mode (it must exist and must not be a drill file), read or created
    /// in drill mode.</summary>
    private static (KeyFile File, string Path) ReadKeyFile(AlertNetOptions options, bool isDrill)
    {
        if (isDrill)
        {
            var drillPath = options.KeyFile ?? KeyFile.DefaultDrillPath;
            return (File.Exists(drillPath) ? KeyFile.Read(drillPath) : KeyFile.ReadOrCreateForDrill(drillPath), drillPath);
        }

        if (string.IsNullOrEmpty(options.KeyFile))
        {
            throw new InvalidOperationException(
                "No encryption keys configured for live mode: set AlertNet:EncryptionKey (or AlertNet:EncryptionKeyFile) and " +
                "AlertNet:BlindIndexKey (or AlertNet:BlindIndexKeyFile), or AlertNet:KeyFile. Generate each key with `openssl rand -base64 32`.");
        }

        if (!File.Exists(options.KeyFile))
        {
            throw new InvalidOperationException($"AlertNet:KeyFile {options.KeyFile} does not exist (live mode never generates keys).");
        }

        var file = KeyFile.Read(options.KeyFile);
        if (file.IsDrillFile)
        {
            throw new InvalidOperationException(
                $"AlertNet:KeyFile {options.KeyFile} is a drill key file (\"drill\": true or a drillAuthToken): drill mode made or used " +
                "it, outside any secret store, and live mode refuses it. Give live mode keys of its own (`openssl rand -base64 32`, twice) " +
                "in AlertNet:EncryptionKey/AlertNet:BlindIndexKey, in mounted files AlertNet:EncryptionKeyFile/AlertNet:BlindIndexKeyFile, " +
                "or in a key file without the drill fields.");
        }

        return (file, options.KeyFile);
    }

    /// <summary>A key given directly or as a file that holds only it (whitespace around it is ignored); null when neither is set.</summary>
    private static byte[]? FromValueOrFile(string valueSetting, string? value, string fileSetting, string? path)
    {
        var hasValue = !string.IsNullOrWhiteSpace(value);
        var hasFile = !string.IsNullOrWhiteSpace(path);
        if (hasValue && hasFile)
        {
            throw new InvalidOperationException($"Set {valueSetting} or {fileSetting}, not both.");
        }

        if (hasFile)
        {
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"{fileSetting}: there is no file {path}.");
            }

            return Decode(File.ReadAllText(path!), $"{fileSetting} {path}");
        }

        return hasValue ? Decode(value, valueSetting) : null;
    }

    private static byte[] Decode(string? base64, string source)
    {
        if (string.IsNullOrWhiteSpace(base64))
        {
            throw new InvalidOperationException($"The {source} is empty.");
        }

        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"The {source} is not base64 (generate a key with `openssl rand -base64 32`).");
        }

        return key.Length == 32 ? key : throw new InvalidOperationException($"The {source} is {key.Length} bytes; keys are 32 bytes.");
    }
}
