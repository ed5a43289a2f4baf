using System.Collections.Concurrent;

namespace AlertNet.Infrastructure.Twilio.Drill;

/// <summary>
/// What "the carrier" received in drill mode: every accepted message with its latest status, held in memory.
/// Tests and drill pages read it to check that each subscriber got exactly one message.
/// </summary>
public sealed class CarrierSimulator
{
    private readonly ConcurrentDictionary<string, SimulatedMessage> _messagesBySid = new(StringComparer.Ordinal);

    // An index by recipient keeps CountTo O(1) and lets the reconcile query ("anything to this number since T?")
    // avoid scanning a whole drill's worth of messages.
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _sidsByTo = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, bool> _busyAnswered = new(StringComparer.Ordinal);

    // Records deleted through the API: gone for the API (404), still part of what the handsets received.
    private readonly ConcurrentDictionary<string, bool> _deleted = new(StringComparer.Ordinal);

    // Create requests per To address, so an injected fault depends on the address and its attempt, not on timing.
    private readonly ConcurrentDictionary<string, long> _requestsByTo = new(StringComparer.Ordinal);
    private readonly long[] _faultsInjected = new long[Enum.GetValues<CarrierFault>().Length];

    private long _createRequests;
    private long _sequence;
    private long _callbacksPosted;
    private long _callbacksFailed;

    /// <summary>A snapshot of every message the carrier accepted for a handset (sent through the API or as a TwiML reply),
    /// in no particular order: what the phones received, including messages whose records were deleted since.</summary>
    public IReadOnlyCollection<SimulatedMessage> Messages => _messagesBySid.Values.Where(m => m.Direction != "inbound").ToArray();

    /// <summary>The message records the carrier still holds (inbound texts included): what a subpoena to the provider, or
    /// its stolen credentials, would find. AlertNet deletes each once it is final.</summary>
    public IReadOnlyCollection<SimulatedMessage> Held => _messagesBySid.Values.Where(m => !_deleted.ContainsKey(m.Sid)).ToArray();

    /// <summary>Create-message API requests received, including rejected and unauthenticated ones.</summary>
    public long CreateRequests => Interlocked.Read(ref _createRequests);

    /// <summary>Status callbacks answered with a success status.</summary>
    public long CallbacksPosted => Interlocked.Read(ref _callbacksPosted);

    /// <summary>Status callbacks refused (4xx) or given up after retries.</summary>
    public long CallbacksFailed => Interlocked.Read(ref _callbacksFailed);

    /// <summary>Messages accepted for this exact To address (a WhatsApp address counts apart from the SMS number).</summary>
    public int CountTo(string to) => _sidsByTo.TryGetValue(to, out var sids) ? sids.Count : 0;

    /// <summary>True the first time it is asked for a number: that request gets "429 Too Many Requests".</summary>
    internal bool AnswerBusyOnce(string to) => _busyAnswered.TryAdd(to, true);

    /// <summary>Faults injected since the last reset, by kind (see <see cref="CarrierFaults"/>).</summary>
    public IReadOnlyDictionary<CarrierFault, long> FaultsInjected =>
        Enum.GetValues<CarrierFault>().Where(f => f != CarrierFault.None)
            .ToDictionary(f => f, f => Interlocked.Read(ref _faultsInjected[(int)f]));

    /// <summary>Messages accepted per To address: what each recipient received.</summary>
    public IReadOnlyDictionary<string, int> CountsByRecipient => _sidsByTo.ToDictionary(p => p.Key, p => p.Value.Count, StringComparer.Ordinal);

    /// <summary>Draws the fault (usually none) for this create request, and counts it.</summary>
    internal CarrierFault NextFault(CarrierFaults faults, string to)
    {
        if (!faults.Any)
        {
            return CarrierFault.None;
        }

        var attempt = _requestsByTo.AddOrUpdate(to, 0, static (_, previous) => previous + 1);
        var fault = faults.Pick(to, attempt);
        Interlocked.Increment(ref _faultsInjected[(int)fault]);
        return fault;
    }

    /// <summary>The record with this SID, deleted or not.</summary>
    public SimulatedMessage? Find(string sid) => _messagesBySid.GetValueOrDefault(sid);

    /// <summary>The record with this SID as the API sees it: null once deleted.</summary>
    public SimulatedMessage? FindHeld(string sid) => _deleted.ContainsKey(sid) ? null : Find(sid);

    /// <summary>Deletes a record as Twilio's API does: refused while the message is still on its way.</summary>
    internal DeleteOutcome Delete(string sid)
    {
        if (FindHeld(sid) is not { } message)
        {
            return DeleteOutcome.NotFound;
        }

        if (!message.IsFinal)
        {
            return DeleteOutcome.NotFinal;
        }

        _deleted[sid] = true;
        return DeleteOutcome.Deleted;
    }

    /// <summary>Forgets every message and counter, so a drill or a test starts from an empty carrier.</summary>
    public void Reset()
    {
        _messagesBySid.Clear();
        _sidsByTo.Clear();
        _deleted.Clear();
        _requestsByTo.Clear();
        Array.Clear(_faultsInjected);
        Interlocked.Exchange(ref _createRequests, 0);
        Interlocked.Exchange(ref _callbacksPosted, 0);
        Interlocked.Exchange(ref _callbacksFailed, 0);
    }

    /// <summary>What the phone with this number has received, oldest first (its own copy: deleting the carrier's
    /// record does not take a text off a phone).</summary>
    public IReadOnlyList<SimulatedMessage> ReceivedBy(string to) =>
        _sidsByTo.TryGetValue(to, out var sids) ? sids.Select(Find).OfType<SimulatedMessage>().OrderBy(m => m.Sequence).ToList() : [];

    internal void CountCreateRequest() => Interlocked.Increment(ref _createRequests);

    internal void CountCallback(bool posted) =>
        Interlocked.Increment(ref posted ? ref _callbacksPosted : ref _callbacksFailed);

    internal SimulatedMessage Accept(SimulatedMessage message)
    {
        var stored = message with { Sequence = Interlocked.Increment(ref _sequence) };
        _messagesBySid[stored.Sid] = stored;
        // An inbound text is addressed to the service's number: it counts as nobody's received message.
        if (stored.Direction != "inbound")
        {
            _sidsByTo.GetOrAdd(stored.To, static _ => new ConcurrentQueue<string>()).Enqueue(stored.Sid);
        }

        return stored;
    }

    /// <summary>Applies a status change; null when the message is gone (a Reset during a drill).</summary>
    internal SimulatedMessage? Update(string sid, Func<SimulatedMessage, SimulatedMessage> change)
    {
        while (_messagesBySid.TryGetValue(sid, out var current))
        {
            var updated = change(current);
            if (_messagesBySid.TryUpdate(sid, updated, current))
            {
                return updated;
            }
        }

        return null;
    }

    /// <summary>Messages matching the filters, newest first, as Twilio lists them.</summary>
    internal List<SimulatedMessage> Query(string accountSid, string? to, string? from, Func<SimulatedMessage, bool> sentFilter)
    {
        IEnumerable<SimulatedMessage> candidates = to is null
            ? _messagesBySid.Values
            : _sidsByTo.TryGetValue(to, out var sids)
                ? sids.Select(FindHeld).OfType<SimulatedMessage>()
                : [];

        return candidates
            .Where(m => !_deleted.ContainsKey(m.Sid))
            .Where(m => m.AccountSid == accountSid && (from is null || m.From == from) && sentFilter(m))
            .OrderByDescending(m => m.Sequence)
            .ToList();
    }
}

internal enum DeleteOutcome
{
    Deleted,
    NotFound,
    NotFinal,
}
