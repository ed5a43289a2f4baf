namespace AlertNet.Carrier;

/// <summary>One sender's circuit breaker, in this process. While the provider answers, requests pass. After
/// <see cref="CarrierOptions.CircuitFailures"/> outage failures in a row (connection refused, timeouts, 5xx,
/// credentials refused) the circuit opens: requests fail at once with <see cref="CarrierFailure.CircuitOpen"/>
/// instead of each waiting for its own timeout, so a batch hands its messages back in milliseconds. After a
/// pause (doubling from a second up to <see cref="CarrierOptions.CircuitMaxPauseSeconds"/>, so recovery is
/// noticed within seconds) one probe request is let through; its success closes the circuit.</summary>
public sealed class CarrierCircuit(string sender, CarrierOptions options, TimeProvider time)
{
    private readonly Lock _lock = new();
    private int _consecutiveFailures;
    private long _openUntil;      // Stopwatch-style ticks of the time provider; 0 while closed
    private TimeSpan _pause = TimeSpan.Zero;
    private bool _probing;
    private DateTimeOffset? _downSince;
    private CarrierException? _lastFailure;

    /// <summary>Raised (outside the lock) when the circuit opens or closes: the health record follows it.</summary>
    public event Action<CarrierCircuit, bool>? Changed;

    public string Sender { get; } = sender;

    /// <summary>How metrics name the sender: its last four digits, like screens. A full number in a metrics store is one more
    /// copy to keep track of, and the last four are enough to tell an organization's few senders apart.</summary>
    public string SenderLabel => Sender.Length <= 4 ? Sender : "*" + Sender[^4..];

    public bool IsOpen
    {
        get
        {
            lock (_lock)
            {
                return _downSince is not null;
            }
        }
    }

    /// <summary>When the provider started failing (the first failure of the run that opened the circuit).</summary>
    public DateTimeOffset? DownSince
    {
        get
        {
            lock (_lock)
            {
                return _downSince;
            }
        }
    }

    public CarrierException? LastFailure
    {
        get
        {
            lock (_lock)
            {
                return _lastFailure;
            }
        }
    }

    /// <summary>How long until the next probe may go; zero while closed or when a probe may go now.</summary>
    public TimeSpan RetryAfter
    {
        get
        {
            lock (_lock)
            {
                var left = _openUntil - time.GetTimestamp();
                return _downSince is null || left <= 0 ? TimeSpan.Zero : time.GetElapsedTime(0, left);
            }
        }
    }

    /// <summary>Whether a request may be sent now. While open, only one probe at a time once the pause is over.</summary>
    public bool TryEnter(out bool isProbe)
    {
        lock (_lock)
        {
            isProbe = false;
            if (_downSince is null)
            {
                return true;
            }

            if (_probing || time.GetTimestamp() < _openUntil)
            {
                return false;
            }

            _probing = true;
            isProbe = true;
            return true;
        }
    }

    public void Succeeded()
    {
        bool closed;
        lock (_lock)
        {
            _consecutiveFailures = 0;
            _probing = false;
            closed = _downSince is not null;
            _downSince = null;
            _openUntil = 0;
            _pause = TimeSpan.Zero;
        }

        if (closed)
        {
            Changed?.Invoke(this, false);
        }
    }

    /// <summary>A request failed. Only outage failures count; a refusal of one message says the provider is up.</summary>
    public void Failed(CarrierException failure, bool wasProbe)
    {
        if (!failure.IsOutage)
        {
            Succeeded();
            return;
        }

        bool opened;
        lock (_lock)
        {
            _lastFailure = failure;
            _consecutiveFailures++;
            if (wasProbe)
            {
                _probing = false;
            }

            opened = false;
            if (_downSince is null && _consecutiveFailures >= options.CircuitFailures)
            {
                _downSince = time.GetUtcNow();
                opened = true;
            }

            if (_downSince is not null && (wasProbe || opened))
            {
                var max = TimeSpan.FromSeconds(options.CircuitMaxPauseSeconds);
                _pause = _pause == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(max.Ticks, _pause.Ticks * 2));
                _openUntil = time.GetTimestamp() + (long)(_pause.TotalSeconds * time.TimestampFrequency);
            }
        }

        if (opened)
        {
            Changed?.Invoke(this, true);
        }
    }

    /// <summary>A probe that was let through but not sent (its caller gave up first): let the next one go.</summary>
    public void ProbeAbandoned()
    {
        lock (_lock)
        {
            _probing = false;
        }
    }
}
