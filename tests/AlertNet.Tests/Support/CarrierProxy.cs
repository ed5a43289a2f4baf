using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AlertNet.Tests.Support;

/// <summary>How the proxy treats requests to the provider.</summary>
public enum CarrierMode
{
    /// <summary>Passed on to the real (drill) carrier.</summary>
    Up,

    /// <summary>Nothing listens: connections are refused.</summary>
    Refuse,

    /// <summary>The request is read and never answered: the client times out.</summary>
    Hang,

    /// <summary>An HTML error page (HTTP 500) quoting the request line and body, as some proxies' error pages do.</summary>
    ServerError,

    /// <summary>HTTP 429 with Twilio's JSON, its message quoting the request.</summary>
    TooManyRequests,

    /// <summary>HTTP 201 with a body that is not JSON, quoting the request.</summary>
    Garbage,
}

/// <summary>A Twilio-compatible endpoint that can have a bad day on demand: a TCP proxy in front of the drill carrier
/// that passes requests on, refuses connections, never answers, or answers with error pages and garbage that quote the
/// request (its URL and form, phone numbers included), so a test can show none of that reaches AlertNet's storage or
/// logs. It notes which operation (send, find, fetch, delete) it saw in which mode.</summary>
public sealed class CarrierProxy : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<(CarrierMode Mode, string Operation), int> _seen = new();
    private readonly Lock _lock = new();
    private TcpListener? _listener;
    private Task? _accepting;
    private volatile CarrierMode _mode = CarrierMode.Up;

    public CarrierProxy(int targetPort)
    {
        TargetPort = targetPort;
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Listen();
    }

    public int Port { get; }

    /// <summary>Where requests go in <see cref="CarrierMode.Up"/>: the drill carrier's port (settable once it is known).</summary>
    public int TargetPort { get; set; }

    public CarrierMode Mode
    {
        get => _mode;
        set
        {
            lock (_lock)
            {
                _mode = value;
                if (value == CarrierMode.Refuse)
                {
                    _listener?.Stop();
                    _listener = null;
                }
                else if (_listener is null)
                {
                    Listen();
                }
            }
        }
    }

    /// <summary>How long a send waits in <see cref="CarrierMode.Up"/> before it is passed on: a slow provider, whose
    /// answer can come after a claim's lease would have run out.</summary>
    public TimeSpan SendDelay { get; set; } = TimeSpan.Zero;

    /// <summary>How many requests of an operation (send, find, fetch, delete) the proxy answered in a mode.</summary>
    public int Seen(CarrierMode mode, string operation) => _seen.GetValueOrDefault((mode, operation));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        lock (_lock)
        {
            _listener?.Stop();
        }

        if (_accepting is not null)
        {
            await _accepting.ContinueWith(static _ => { }, TaskScheduler.Default);
        }

        _stop.Dispose();
    }

    private void Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _accepting = AcceptAsync(listener);
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

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    /// <summary>One request per connection: every answer says Connection: close.</summary>
    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            var (head, body) = await ReadRequestAsync(stream);
            if (head is null)
            {
                return;
            }

            var mode = _mode;
            _seen.AddOrUpdate((mode, OperationOf(head)), 1, static (_, n) => n + 1);
            switch (mode)
            {
                case CarrierMode.Up:
                    if (SendDelay > TimeSpan.Zero && OperationOf(head) == "send")
                    {
                        await Task.Delay(SendDelay, _stop.Token);
                    }

                    await stream.WriteAsync(await ForwardAsync(head, body), _stop.Token);
                    break;
                case CarrierMode.Hang:
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                    break;
                default:
                    await stream.WriteAsync(Fault(mode, head, body), _stop.Token);
                    break;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>One request to the drill carrier on a connection of its own; the answer as raw bytes.</summary>
    private async Task<byte[]> ForwardAsync(string head, byte[] body)
    {
        using var upstream = new TcpClient();
        await upstream.ConnectAsync(IPAddress.Loopback, TargetPort, _stop.Token);
        var stream = upstream.GetStream();
        // HTTP/1.0-style: one request, then the carrier closes, and everything it sent is the answer.
        var rewritten = string.Join("\r\n", head.Split("\r\n").Where(l => !l.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase)))
            .TrimEnd() + "\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(rewritten), _stop.Token);
        await stream.WriteAsync(body, _stop.Token);
        using var answer = new MemoryStream();
        await stream.CopyToAsync(answer, _stop.Token);
        return answer.ToArray();
    }

    private static byte[] Fault(CarrierMode mode, string head, byte[] body)
    {
        var quoted = head.Split("\r\n")[0] + " " + Encoding.UTF8.GetString(body);
        var (status, type, content) = mode switch
        {
            CarrierMode.ServerError => ("500 Internal Server Error", "text/html", $"<html><body>Upstream error for {quoted}</body></html>"),
            CarrierMode.TooManyRequests => ("429 Too Many Requests", "application/json",
                $$"""{"code":20429,"message":"Too Many Requests: {{quoted.Replace("\"", "'", StringComparison.Ordinal)}}","more_info":"https://www.twilio.com/docs/errors/20429","status":429}"""),
            _ => ("201 Created", "application/json", $"{{\"sid\": broken {quoted}"),
        };
        var bytes = Encoding.UTF8.GetBytes(content);
        return Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Type: {type}\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n")
            .Concat(bytes).ToArray();
    }

    private static string OperationOf(string head)
    {
        var line = head.Split("\r\n")[0];
        var path = line.Split(' ').ElementAtOrDefault(1) ?? "";
        return line.StartsWith("POST", StringComparison.Ordinal) ? "send"
            : line.StartsWith("DELETE", StringComparison.Ordinal) ? "delete"
            : path.Contains("/Messages.json", StringComparison.Ordinal) ? "find"
            : "fetch";
    }

    private static async Task<(string? Head, byte[] Body)> ReadRequestAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one) == 0)
            {
                return (null, []);
            }

            head.Add(one[0]);
            if (head.Count >= 4 && head[^1] == '\n' && head[^2] == '\r' && head[^3] == '\n' && head[^4] == '\r')
            {
                break;
            }
        }

        var text = Encoding.ASCII.GetString(head.ToArray());
        var length = text.Split("\r\n")
            .Where(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            .Select(l => int.Parse(l[15..].Trim(), System.Globalization.CultureInfo.InvariantCulture))
            .FirstOrDefault();
        var body = new byte[length];
        await stream.ReadExactlyAsync(body);
        return (text, body);
    }
}
