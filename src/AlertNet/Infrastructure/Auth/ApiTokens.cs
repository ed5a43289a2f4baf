using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace AlertNet.Infrastructure.Auth;

/// <summary>Bearer tokens for the REST API. Only a SHA-256 hash is stored; the token itself is shown once.
/// A hash (not a slow password hash) is enough: tokens are 256 random bits, not guessable passwords.</summary>
public sealed class ApiTokens(NpgsqlDataSource db)
{
    private const string Prefix = "an_";

    public async Task<string> CreateAsync(string name, string role, CancellationToken cancellationToken)
    {
        if (!Roles.All.Contains(role))
        {
            throw new ArgumentException($"Role must be one of: {string.Join(", ", Roles.All)}.", nameof(role));
        }

        var token = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO api_tokens (name, role, token_hash) VALUES (@name, @role, @hash)",
            new { name, role, hash = Hash(token) }, cancellationToken: cancellationToken));
        return token;
    }

    public async Task<(string Name, string Role)?> FindAsync(string token, CancellationToken cancellationToken)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length > 200)
        {
            return null;
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(string Name, string Role)?>(new CommandDefinition(
            "SELECT name, role FROM api_tokens WHERE token_hash = @hash AND revoked_at IS NULL",
            new { hash = Hash(token) }, cancellationToken: cancellationToken));
        return row;
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
