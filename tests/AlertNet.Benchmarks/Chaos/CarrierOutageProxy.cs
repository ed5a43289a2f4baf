using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace AlertNet.Benchmarks.Chaos;

/// <summary>A plain TCP proxy between AlertNet and the emulator that can make the carrier unreachable: while it is
/// down, nothing listens on its port (connections are refused, as when Twilio's address does not answer) and every
/// connection it was carrying is dropped mid-stream (a request under way gets no answer). Up again, it listens on the
/// same port and passes bytes through untouched, keep-alive included. (The test project's CarrierProxy answers per
/// request with faults; the bench project cannot reference it, and the outage needs only this much.)</summary>
internal sealed class CarrierOutageProxy : IAsyncDisposable
{
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<int, (TcpClient Client, TcpClient Upstream)> _connections = new();
    private readonly Lock _lock = new();
    private TcpListener? _listener;
    private int _next;

    public CarrierOutageProxy(int targetPort)
    {
        _targetPort = targetPort;
        Port = ChildProcesses.FreeLoopbackPort();
        Listen();
    }

    public int Port { get; }

    /// <summary>What AlertNet's Twilio:ApiBaseUrl points at.</summary>
    public string BaseUrl => $"http://127.0.0.1:{Port}";

    /// <summary>Connections dropped when the outage began.</summary>
    public int Dropped { get; private set; }

    /// <summary>Stops listening and drops every connection: the carrier is unreachable until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        lock (_lock)
        {
            _listener?.Stop();
            _listener = null;
            foreach (var (id, (client, upstream)) in _connections)
            {
                // A reset, not a polite close: what a broken route or a dead load balancer looks like.
                client.Client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                upstream.Dispose();
                _connections.TryRemove(id, out _);
                Dropped++;
            }
        }
    }

    public void Restore()
    {
        lock (_lock)
        {
            if (_listener is null)
            {
                Listen();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        lock (_lock)
        {
            _listener?.Stop();
            _listener = null;
        }

        foreach (var (_, (client, upstream)) in _connections)
        {
            client.Dispose();
            upstream.Dispose();
        }

        _stop.Dispose();
    }

    private void Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start(512);
        _listener = listener;
        _ = AcceptAsync(listener);
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException or OperationCanceledException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => PipeAsync(client));
        }
    }

    private async Task PipeAsync(TcpClient client)
    {
        var upstream = new TcpClient { NoDelay = true };
        client.NoDelay = true;
        var id = Interlocked.Increment(ref _next);
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            lock (_lock)
            {
                if (_listener is null)
                {
                    // Accepted just before the cut.
                    return;
                }

                _connections[id] = (client, upstream);
            }

            var toCarrier = client.GetStream().CopyToAsync(upstream.GetStream(), _stop.Token);
            var toAlertNet = upstream.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
            await Task.WhenAny(toCarrier, toAlertNet);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            _connections.TryRemove(id, out _);
            client.Dispose();
            upstream.Dispose();
        }
    }
}
