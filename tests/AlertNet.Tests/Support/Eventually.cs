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

    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string? because = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < timeout)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(PollInterval);
        }

        // One last look, so a condition that became true during the final delay does not fail the test.
        if (!await condition())
        {
            Assert.Fail($"Not true within {timeout.TotalSeconds:0.###} s{(because is null ? "" : ": " + because)}.");
        }
    }
}
