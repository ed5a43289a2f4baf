using Npgsql;

namespace AlertNet.Infrastructure.Database;

public static class DatabaseSetup
{
    /// <summary>The local cluster started by infra/postgres.sh.</summary>
    public const string LocalDefault = "Host=127.0.0.1;Port=5433;Database=alertnet;Username=alertnet";

    public static string ConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("AlertNet") is { Length: > 0 } configured ? configured : LocalDefault;

    public static IServiceCollection AddAlertNetDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        // One data source for the process; Npgsql pools connections behind it. No multiplexing (design §5).
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(ConnectionString(configuration)).Build());
        services.AddSingleton<DatabaseMigrator>();
        return services;
    }
}
