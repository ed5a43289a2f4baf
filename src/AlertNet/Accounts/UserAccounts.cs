using System.Security.Cryptography;
using System.Text.RegularExpressions;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using Dapper;
using Microsoft.AspNetCore.Identity;
using AlertNet.Web;
using Microsoft.Extensions.Options;
using Npgsql;
using OtpNet;

namespace AlertNet.Accounts;

public sealed record UserAccount(
    long Id,
    string Name,
    string Role,
    int FailedAttempts,
    DateTime? LockedUntil,
    bool HasTotp,
    string SecurityStamp,
    DateTime CreatedAt,
    DateTime? DisabledAt)
{
    public bool IsLocked(DateTimeOffset now) => LockedUntil > now.UtcDateTime;
}

public enum SignInOutcome
{
    Success,
    NeedsCode,
    Wrong,
    LockedOut,
}

public sealed record SignInResult(SignInOutcome Outcome, UserAccount? User = null);

/// <summary>Web app accounts: PBKDF2 password hashes (ASP.NET Core Identity's PasswordHasher), lockout after
/// repeated failures, an optional TOTP second factor whose secret is encrypted with the configured key.</summary>
public sealed partial class UserAccounts(NpgsqlDataSource db, PersonalDataProtector protector, IOptions<WebOptions> options, TimeProvider clock)
{
    public const int MinPasswordLength = 12;

    private const string Columns =
        """
        id, name, role, failed_attempts AS failedattempts, locked_until AS lockeduntil,
        totp_secret_cipher IS NOT NULL AS hastotp, security_stamp AS securitystamp, created_at AS createdat, disabled_at AS disabledat
        """;

    private static readonly PasswordHasher<UserAccount> Hasher = new();

    // Verified against when the name is unknown, so a wrong name takes as long as a wrong password.
    private static readonly string DummyHash = Hasher.HashPassword(null!, "not a password of anyone");

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>A password to hand over once: 20 characters from 32 symbols (100 bits).</summary>
    public static string GeneratePassword()
    {
        const string alphabet = "abcdefghjkmnpqrstuvwxyz23456789AB";
        return string.Create(20, alphabet, (span, chars) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = chars[RandomNumberGenerator.GetInt32(chars.Length)];
            }
        });
    }

    public async Task<UserAccount?> CreateAsync(string name, string role, string password, CancellationToken cancellationToken)
    {
        if (!IsValidName(name) || !Roles.All.Contains(role) || password.Length < MinPasswordLength)
        {
            throw new ArgumentException("Invalid name, role or password.");
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<UserAccount>(new CommandDefinition(
            $"""
            INSERT INTO users (name, role, password_hash, security_stamp) VALUES (@name, @role, @hash, @stamp)
            ON CONFLICT DO NOTHING
            RETURNING {Columns}
            """,
            new { name, role, hash = Hasher.HashPassword(null!, password), stamp = NewStamp() }, cancellationToken: cancellationToken));
    }

    public async Task<UserAccount?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<UserAccount>(new CommandDefinition(
            $"SELECT {Columns} FROM users WHERE id = @id", new { id }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<UserAccount>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<UserAccount>(new CommandDefinition(
            $"SELECT {Columns} FROM users ORDER BY lower(name)", cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>Checks a name and password. A wrong password changes nothing on the account (SignInThrottle slows guessing
    /// down instead: a count here would let anyone lock an organizer out). Only a right password learns that the account is
    /// locked (by wrong codes), so a locked name answers like any other to everyone else. With a second factor the code
    /// failure count is reset only once the code is right too, so a known password does not open unlimited guesses at the code.</summary>
    public async Task<SignInResult> CheckPasswordAsync(string name, string password, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(long Id, string Hash)?>(new CommandDefinition(
            "SELECT id, password_hash FROM users WHERE lower(name) = lower(@name) AND disabled_at IS NULL",
            new { name }, cancellationToken: cancellationToken));
        if (row is not { } found)
        {
            Hasher.VerifyHashedPassword(null!, DummyHash, password);
            return new SignInResult(SignInOutcome.Wrong);
        }

        if (Hasher.VerifyHashedPassword(null!, found.Hash, password) == PasswordVerificationResult.Failed)
        {
            return new SignInResult(SignInOutcome.Wrong);
        }

        var user = (await FindAsync(found.Id, cancellationToken))!;
        if (user.IsLocked(clock.GetUtcNow()))
        {
            return new SignInResult(SignInOutcome.LockedOut, user);
        }

        if (user.HasTotp)
        {
            return new SignInResult(SignInOutcome.NeedsCode, user);
        }

        await ResetFailuresAsync(user.Id, cancellationToken);
        return new SignInResult(SignInOutcome.Success, user);
    }

    /// <summary>The second step: the code of the user's authenticator app, each time step accepted once.</summary>
    public async Task<SignInResult> CheckCodeAsync(long id, string code, CancellationToken cancellationToken)
    {
        var user = await FindAsync(id, cancellationToken);
        if (user is null || user.DisabledAt is not null || !user.HasTotp)
        {
            return new SignInResult(SignInOutcome.Wrong);
        }

        if (user.IsLocked(clock.GetUtcNow()))
        {
            return new SignInResult(SignInOutcome.LockedOut, user);
        }

        if (!await VerifyAndSpendCodeAsync(id, await SecretAsync(id, cancellationToken), code, cancellationToken))
        {
            return await RecordFailureAsync(user, cancellationToken);
        }

        await ResetFailuresAsync(id, cancellationToken);
        return new SignInResult(SignInOutcome.Success, user);
    }

    /// <summary>Turns the second factor on once the user proved their app holds the secret.</summary>
    public async Task<bool> EnableTotpAsync(long id, byte[] secret, string code, CancellationToken cancellationToken)
    {
        if (!VerifyCode(secret, code, out var step))
        {
            return false;
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE users SET totp_secret_cipher = @cipher, totp_last_step = @step, security_stamp = @stamp
            WHERE id = @id AND disabled_at IS NULL
            """,
            new { id, cipher = protector.Encrypt(Base32Encoding.ToString(secret), CipherPlaces.TotpSecret(id)), step, stamp = NewStamp() },
            cancellationToken: cancellationToken)) == 1;
    }

    public async Task<bool> DisableTotpAsync(long id, string code, CancellationToken cancellationToken)
    {
        if (await SecretAsync(id, cancellationToken) is not { } secret || !await VerifyAndSpendCodeAsync(id, secret, code, cancellationToken))
        {
            return false;
        }

        await UpdateAsync("totp_secret_cipher = NULL, totp_last_step = NULL", id, null, cancellationToken);
        return true;
    }

    public async Task<bool> ChangePasswordAsync(long id, string current, string replacement, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var hash = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT password_hash FROM users WHERE id = @id AND disabled_at IS NULL", new { id }, cancellationToken: cancellationToken));
        if (hash is null || replacement.Length < MinPasswordLength
            || Hasher.VerifyHashedPassword(null!, hash, current) == PasswordVerificationResult.Failed)
        {
            return false;
        }

        return await SetPasswordAsync(id, replacement, cancellationToken);
    }

    public Task<bool> SetPasswordAsync(long id, string password, CancellationToken cancellationToken) =>
        UpdateAsync("password_hash = @hash", id, new { hash = Hasher.HashPassword(null!, password) }, cancellationToken);

    public Task<bool> SetRoleAsync(long id, string role, CancellationToken cancellationToken) =>
        UpdateAsync("role = @role", id, new { role }, cancellationToken);

    public Task<bool> DisableAsync(long id, CancellationToken cancellationToken) =>
        UpdateAsync("disabled_at = now()", id, null, cancellationToken);

    public Task<bool> EnableAsync(long id, CancellationToken cancellationToken) =>
        UpdateAsync("disabled_at = NULL, failed_attempts = 0, locked_until = NULL", id, null, cancellationToken);

    /// <summary>An admin's reset of someone's second factor (a lost phone): they set it up again at their next sign-in.</summary>
    public Task<bool> ResetTotpAsync(long id, CancellationToken cancellationToken) =>
        UpdateAsync("totp_secret_cipher = NULL, totp_last_step = NULL", id, null, cancellationToken);

    /// <summary>Signing out: a new security stamp ends every session of the account on the server, so a copied cookie
    /// is refused from then on, not only the browser's own copy forgotten.</summary>
    public async Task EndSessionsAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE users SET security_stamp = @stamp WHERE id = @id", new { id, stamp = NewStamp() }, cancellationToken: cancellationToken));
    }

    public Task<bool> UnlockAsync(long id, CancellationToken cancellationToken) =>
        UpdateAsync("failed_attempts = 0, locked_until = NULL", id, null, cancellationToken);

    public static byte[] NewTotpSecret() => KeyGeneration.GenerateRandomKey(20);

    public static bool VerifyCode(byte[] secret, string code, out long step)
    {
        step = 0;
        code = new string(code.Where(char.IsAsciiDigit).ToArray());
        // One step either side allows for a phone clock that is a little off.
        return code.Length == 6 && new Totp(secret).VerifyTotp(code, out step, new VerificationWindow(previous: 1, future: 1));
    }

    private async Task<SignInResult> RecordFailureAsync(UserAccount user, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // One statement, so concurrent guesses cannot slip past the limit. Locking starts the count again.
        var lockedUntil = await connection.QuerySingleAsync<DateTime?>(new CommandDefinition(
            """
            UPDATE users SET
                locked_until = CASE WHEN failed_attempts + 1 >= @max THEN now() + make_interval(mins => @minutes) ELSE locked_until END,
                failed_attempts = CASE WHEN failed_attempts + 1 >= @max THEN 0 ELSE failed_attempts + 1 END
            WHERE id = @id
            RETURNING locked_until
            """,
            new { id = user.Id, max = settings.LockoutFailures, minutes = settings.LockoutMinutes }, cancellationToken: cancellationToken));
        return lockedUntil > clock.GetUtcNow().UtcDateTime
            ? new SignInResult(SignInOutcome.LockedOut, user with { LockedUntil = lockedUntil })
            : new SignInResult(SignInOutcome.Wrong, user);
    }

    private async Task ResetFailuresAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE users SET failed_attempts = 0 WHERE id = @id AND failed_attempts <> 0", new { id }, cancellationToken: cancellationToken));
    }

    private async Task<byte[]?> SecretAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var cipher = await connection.QuerySingleOrDefaultAsync<byte[]>(new CommandDefinition(
            "SELECT totp_secret_cipher FROM users WHERE id = @id", new { id }, cancellationToken: cancellationToken));
        return cipher is null ? null : Base32Encoding.ToBytes(protector.Decrypt(cipher, CipherPlaces.TotpSecret(id)));
    }

    private async Task<bool> VerifyAndSpendCodeAsync(long id, byte[]? secret, string code, CancellationToken cancellationToken)
    {
        if (secret is null || !VerifyCode(secret, code, out var step))
        {
            return false;
        }

        // A code seen once (by this or a concurrent request) is spent.
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE users SET totp_last_step = @step WHERE id = @id AND (totp_last_step IS NULL OR totp_last_step < @step)",
            new { id, step }, cancellationToken: cancellationToken)) == 1;
    }

    /// <summary>Every change to an account renews its security stamp, which ends the sessions signed in before it.</summary>
    private async Task<bool> UpdateAsync(string assignments, long id, object? values, CancellationToken cancellationToken)
    {
        var parameters = new DynamicParameters(values);
        parameters.Add("id", id);
        parameters.Add("stamp", NewStamp());
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE users SET {assignments}, security_stamp = @stamp WHERE id = @id", parameters, cancellationToken: cancellationToken)) == 1;
    }

    private static string NewStamp() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    [GeneratedRegex("^[A-Za-z0-9._-]{1,60}$")]
    private static partial Regex NamePattern();
}
