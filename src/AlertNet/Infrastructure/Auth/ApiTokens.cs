using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace AlertNet.Infrastructure.Auth;

public sealed record ApiTokenInfo(long Id, string Name, string Role, DateTime CreatedAt, DateTime? RevokedAt);

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

    public async Task<IReadOnlyList<ApiTokenInfo>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<ApiTokenInfo>(new CommandDefinition(
            "SELECT id, name, role, created_at AS createdat, revoked_at AS revokedat FROM api_tokens ORDER BY revoked_at IS NOT NULL, lower(name), id",
            cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>Revokes a token at once (the next request with it gets 401); null when no live token has that id.</summary>
    public async Task<ApiTokenInfo?> RevokeAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<ApiTokenInfo>(new CommandDefinition(
            "UPDATE api_tokens SET revoked_at = now() WHERE id = @id AND revoked_at IS NULL RETURNING id, name, role, created_at AS createdat, revoked_at AS revokedat",
            new { id }, cancellationToken: cancellationToken));
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
