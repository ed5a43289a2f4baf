using System.Security.Cryptography;
using System.Text.Json;

namespace AlertNet.Privacy;

/// <summary>The secrets AlertNet keeps outside the database: the phone-number encryption key, the
/// blind-index key and, in drill mode, the simulator's auth token. A seized database alone reveals
/// no number.
/// A rotation adds <c>keyId</c> (of the current keys) and <c>oldKeys</c> (earlier keys by id), as in
/// configuration (AlertNet:KeyId, AlertNet:OldKeys). <c>drill</c> is true in the file drill mode generates:
/// keys made on a workstation, stored outside any secret store, which live mode refuses.</summary>
public sealed record KeyFile(string? EncryptionKey, string? BlindIndexKey, string? DrillAuthToken, int KeyId = 0,
    Dictionary<string, Hosting.OldKeyOptions>? OldKeys = null, bool Drill = false)
{
    /// <summary>A file drill mode made or used: marked, or holding a drill auth token (files made before the mark existed).</summary>
    public bool IsDrillFile => Drill || DrillAuthToken is not null;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Where drill mode keeps its generated secrets unless AlertNet:KeyFile says otherwise:
    /// outside the repository, in the user's data folder.</summary>
    public static string DefaultDrillPath => Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
        "alertnet", "drill-keys.json");

    public static KeyFile Read(string path) =>
        JsonSerializer.Deserialize<KeyFile>(File.ReadAllText(path), Json)
        ?? throw new InvalidOperationException($"Key file {path} is empty.");

    /// <summary>Reads the drill key file, creating it (mode 0600) with fresh random secrets on first start.</summary>
    public static KeyFile ReadOrCreateForDrill(string path)
    {
        if (File.Exists(path))
        {
            var existing = Read(path);
            if (existing.DrillAuthToken is not null)
            {
                return existing;
            }

            var completed = existing with { DrillAuthToken = NewSecretHex(16) };
            Write(path, completed);
            return completed;
        }

        var created = new KeyFile(NewKey(), NewKey(), NewSecretHex(16), Drill: true);
        Write(path, created);
        return created;
    }

    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static string NewSecretHex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    private static void Write(string path, KeyFile keys)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        {
            JsonSerializer.Serialize(stream, keys, Json);
        }

        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode applies only to new files; an overwritten file keeps its old mode otherwise.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
