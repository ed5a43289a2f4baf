using System.Diagnostics;

namespace AlertNet.Tests.Support;

/// <summary>
/// Waits for something asynchronous (a callback, a background job) by polling with a deadline, so a test is as
/// fast as the system allows and fails with a clear message instead of sleeping a guessed amount of time.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    public static Task TrueAsync(Func<bool> condition, TimeSpan timeout, string? because = null) =>
        TrueAsync(() => Task.FromResult(condition()), timeout, because);

    public static Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string? because = null) =>
        ValueAsync(condition, done => done, timeout, () => because ?? "");

    /// <summary>Polls <paramref name="probe"/> until its value is <paramref name="done"/>, and returns that value.
    /// <paramref name="because"/> is read only on failure, so it can describe the state at that moment.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, Func<string>? because = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (Stopwatch.GetElapsedTime(started) > timeout)
            {
                var reason = because?.Invoke();
                Assert.Fail($"Not true within {timeout.TotalSeconds:0.###} s{(string.IsNullOrEmpty(reason) ? "" : ": " + reason)}; last value: {value}.");
            }

            await Task.Delay(PollInterval);
        }
    }
}
