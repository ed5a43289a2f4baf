using System.Threading.Channels;
using Dapper;
using Npgsql;

namespace AlertNet.Delivery;

/// <summary>Turns many small writes into one statement and one commit per group. A caller still waits
/// until its own item is committed, so nothing acknowledged is lost; under load, items that arrive
/// while a group is being written form the next group (a database "group commit").</summary>
public abstract class GroupCommitWriter<T>(ILogger logger) : BackgroundService
{
    private const int MaxGroup = 1000;

    private readonly Channel<(T Item, TaskCompletionSource Written)> _queue =
        Channel.CreateBounded<(T, TaskCompletionSource)>(new BoundedChannelOptions(50_000)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

    public async Task WriteAsync(T item, CancellationToken cancellationToken)
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await _queue.Writer.WriteAsync((item, written), cancellationToken);
        }
        catch (ChannelClosedException)
        {
            // The writer has shut down (a job still finishing during shutdown): write it alone.
            try
            {
                await WriteGroupAsync([item]);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                throw new GroupWriteFailedException(error);
            }

            return;
        }

        await written.Task.WaitAsync(cancellationToken);
    }

    protected abstract Task WriteGroupAsync(IReadOnlyList<T> group);

    /// <summary>Runs a group's statements in one transaction whose commit does not wait for the WAL
    /// flush. A PostgreSQL crash can lose the last few hundred milliseconds of such groups, and that is
    /// safe here: a lost SID leaves its delivery claimed, and the claim's expiry makes the sweeper find
    /// the message at Twilio (reconcile) instead of sending again; a lost status is fetched from Twilio
    /// by the status refresh. The claim itself, which guards against double sends, commits durably.</summary>
    protected static async Task<IReadOnlyList<TRow>> QueryWithRelaxedCommitAsync<TRow>(NpgsqlDataSource db, string sql, object parameters)
    {
        await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
        var rows = (await connection.QueryAsync<TRow>("SET LOCAL synchronous_commit = off;\n" + sql, parameters, transaction)).AsList();
        await transaction.CommitAsync(CancellationToken.None);
        return rows;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                await WriteWhatIsQueuedAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: take no more, and write what callers are still waiting for.
            _queue.Writer.TryComplete();
            await WriteWhatIsQueuedAsync();
        }
    }

    private async Task WriteWhatIsQueuedAsync()
    {
        var group = new List<(T Item, TaskCompletionSource Written)>(MaxGroup);
        while (_queue.Reader.TryPeek(out _))
        {
            while (group.Count < MaxGroup && _queue.Reader.TryRead(out var queued))
            {
                group.Add(queued);
            }

            try
            {
                await WriteGroupAsync(group.Select(g => g.Item).ToList());
                group.ForEach(g => g.Written.TrySetResult());
            }
            catch (Exception error)
            {
                logger.LogError("Writing a group of {Count} failed: {Error}", group.Count, error.GetType().Name);
                // Each waiter gets an exception of its own: one shared instance would collect every awaiter's stack
                // frames as it is rethrown in each of them (log entries thousands of frames long during an outage).
                group.ForEach(g => g.Written.TrySetException(new GroupWriteFailedException(error)));
            }

            group.Clear();
        }
    }
}

/// <summary>An item's group could not be written (the database unreachable, say): the item is not stored.</summary>
public sealed class GroupWriteFailedException(Exception cause)
    : Exception($"A group write failed: {cause.GetType().Name}", cause);
