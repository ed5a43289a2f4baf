using AlertNet.Privacy;

namespace AlertNet.Benchmarks.Chaos;

/// <summary>What every scenario works with: the run's database (subscribers loaded once), the cluster it can
/// restart, and the keys every AlertNet process shares.</summary>
internal sealed class ChaosContext(
    ChaosScale scale,
    BenchDatabase database,
    ChaosCluster cluster,
    string repoRoot,
    string encryptionKey,
    string blindIndexKey,
    PersonalDataProtector protector)
{
    private bool _loaded;

    public ChaosScale Scale => scale;

    public BenchDatabase Database => database;

    public ChaosCluster Cluster => cluster;

    public string RepoRoot => repoRoot;

    public string EncryptionKey => encryptionKey;

    public string BlindIndexKey => blindIndexKey;

    /// <summary>The recipients' numbers, as the emulator sees them in To.</summary>
    public IReadOnlyList<string> Numbers { get; } = Enumerable.Range(0, scale.Recipients).Select(BenchDatabase.PhoneNumber).ToList();

    /// <summary>Loads the subscribers into the default group, once per run (after the first AlertNet process has
    /// created the schema).</summary>
    public async Task EnsureSubscribersAsync(CancellationToken cancellationToken)
    {
        if (_loaded)
        {
            return;
        }

        var groupId = await database.DefaultGroupIdAsync(cancellationToken);
        var took = await database.AddSubscribersAsync(protector, 0, scale.Recipients, groupId, cancellationToken);
        Console.WriteLine($"   {Format.Count(Scale.Recipients)} subscribers loaded in {Format.Seconds(took)}");
        _loaded = true;
    }
}
