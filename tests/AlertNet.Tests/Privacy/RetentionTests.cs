using System.Text.Json;
using AlertNet.Infrastructure.Auth;
using AlertNet.Privacy;
using AlertNet.Tests.Support;
using Dapper;
using Hangfire;

namespace AlertNet.Tests.Privacy;

/// <summary>After Privacy:RetentionDays, who received which alert, what people texted and hotline reports are
/// gone; the alert's counts are not.</summary>
public sealed class RetentionTests : IAsyncLifetime
{
    private AlertNetTestApp _app = null!;

    // Batches of 2 rows: every pass over a table takes several batches.
    public async Task InitializeAsync() => _app = await AlertNetTestApp.StartAsync(overrides: new Dictionary<string, string?>
    {
        ["Privacy:BatchSize"] = "2",
        ["Privacy:RetentionDays"] = "30",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Retention_removes_old_links_and_texts_keeps_counts_and_leaves_recent_data_alone()
    {
        var numbers = AlertNetTestApp.Numbers(6, first: 3100);
        await _app.JoinAllAsync(numbers);
        await _app.TextAsync("+15005550060", "JOIN"); // the carrier fails it with 30006: a failure reason to keep
        await _app.TextAsync(numbers[0], "REPORT agents at the bus depot");
        var organizer = await _app.ClientWithRoleAsync(Roles.Organizer);
        var old = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "Old alert" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, old, expectedRecipients: 7);
        var countsBefore = (await AlertNetTestApp.GetAlertAsync(organizer, old)).GetProperty("counts").GetRawText();

        // A job that failed (Hangfire keeps failed jobs, with their exception, for ever).
        _app.Services.GetRequiredService<IBackgroundJobClient>().Create(() => Console.WriteLine("never run"),
            new Hangfire.States.FailedState(new InvalidOperationException("a failure")));

        // 31 days pass for everything so far.
        await using var db = await _app.Db.OpenConnectionAsync();
        await db.ExecuteAsync(
            """
            UPDATE hangfire.job SET createdat = createdat - interval '31 days';
            UPDATE alerts SET created_at = created_at - interval '31 days';
            UPDATE inbound_messages SET received_at = received_at - interval '31 days';
            UPDATE hotline_reports SET received_at = received_at - interval '31 days';
            """);
        await _app.TextAsync(numbers[1], "REPORT checkpoint on 5th");
        var recent = await AlertNetTestApp.TriggerAlertAsync(organizer, new { type = "urgent", bodies = new { en = "New alert" } });
        await AlertNetTestApp.WaitUntilSettledAsync(organizer, recent, expectedRecipients: 7);

        var (exitCode, output, errors) = await _app.RunCommandAsync(RetentionJob.Verb);

        Assert.True(exitCode == 0, output + errors);
        Assert.Equal(7, await db.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM deliveries WHERE alert_id = @old AND subscriber_id IS NULL AND twilio_sid IS NULL", new { old }));
        Assert.Equal(countsBefore, (await AlertNetTestApp.GetAlertAsync(organizer, old)).GetProperty("counts").GetRawText());
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM deliveries WHERE alert_id = @old AND error_code = 30006", new { old }));
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM hangfire.job WHERE statename = 'Failed'"));
        // The recent alert, report and texts are untouched.
        Assert.Equal(7, await db.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM deliveries WHERE alert_id = @recent AND subscriber_id IS NOT NULL", new { recent }));
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM hotline_reports"));
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM inbound_messages"));
        var report = await db.QuerySingleAsync<(long Id, byte[] Body)>("SELECT id, body_cipher FROM hotline_reports");
        Assert.Equal("checkpoint on 5th", _app.Protector.Decrypt(report.Body, CipherPlaces.HotlineText(report.Id)));
        var audit = await db.QuerySingleAsync<(string Actor, string Details)>(
            "SELECT actor, details::text FROM audit_log WHERE action = 'retention.run'");
        Assert.Equal("command-line", audit.Actor);
        var result = JsonDocument.Parse(audit.Details).RootElement.GetProperty("result");
        Assert.Equal(1, result.GetProperty("Alerts").GetInt32());
        Assert.Equal(7, result.GetProperty("DeliveriesUnlinked").GetInt64());
        Assert.Equal(8, result.GetProperty("InboundMessages").GetInt64());

        // A second run finds nothing more to do and changes nothing.
        (exitCode, output, errors) = await _app.RunCommandAsync(RetentionJob.Verb);
        Assert.True(exitCode == 0, output + errors);
        Assert.Contains("RetentionResult { Alerts = 0, DeliveriesUnlinked = 0, InboundMessages = 0, HotlineReports = 0", output, StringComparison.Ordinal);
        Assert.Equal(countsBefore, (await AlertNetTestApp.GetAlertAsync(organizer, old)).GetProperty("counts").GetRawText());
    }

    [Fact]
    public async Task The_daily_retention_job_is_scheduled_in_Hangfire_and_runs_there()
    {
        await using var db = await _app.Db.OpenConnectionAsync();
        Assert.Equal(1, await db.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM hangfire.set WHERE key = 'recurring-jobs' AND value = @id", new { id = RetentionJob.RecurringJobId }));

        _app.Services.GetRequiredService<IRecurringJobManager>().Trigger(RetentionJob.RecurringJobId);

        await Eventually.TrueAsync(
            async () => await db.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'retention.run' AND actor = 'retention-job'") == 1,
            TimeSpan.FromSeconds(30), "the recurring retention job to run");
    }
}
