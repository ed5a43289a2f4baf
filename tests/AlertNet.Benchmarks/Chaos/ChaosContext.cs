using AlertNet.Privacy;

namespace AlertNet.Benchmarks.Chaos;

/// <summary>What every scenario works with: the PostgreSQL server (each scenario gets a database of its own, so an
/// alert one scenario left unfinished cannot send in the next), the cluster it can restart, and the keys every
/// AlertNet process shares.</summary>
internal sealed class ChaosContext(
    ChaosScale scale,
    string server,
    ChaosCluster cluster,
    string repoRoot,
    string encryptionKey,
    string blindIndexKey,
    PersonalDataProtector protector)
{
    public ChaosScale Scale => scale;

    public string Server => server;

    public ChaosCluster Cluster => cluster;

    public string RepoRoot => repoRoot;

    public string EncryptionKey => encryptionKey;

    public string BlindIndexKey => blindIndexKey;

    /// <summary>The recipients' numbers, as the emulator sees them in To.</summary>
    public IReadOnlyList<string> Numbers { get; } = Enumerable.Range(0, scale.Recipients).Select(BenchDatabase.PhoneNumber).ToList();

    /// <summary>Loads the subscribers into the default group of a scenario's database (after the first AlertNet process
    /// has created the schema).</summary>
    public async Task LoadSubscribersAsync(BenchDatabase database, CancellationToken cancellationToken)
    {
        var groupId = await database.DefaultGroupIdAsync(cancellationToken);
        var took = await database.AddSubscribersAsync(protector, 0, scale.Recipients, groupId, cancellationToken);
        Console.WriteLine($"   {Format.Count(scale.Recipients)} subscribers loaded in {Format.Seconds(took)}");
    }
}
