using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace AlertNet.Infrastructure.Twilio.Drill;

/// <summary>
/// Plays the carrier's side after acceptance: moves each message to sent and then to its final status, and posts
/// signed status callbacks like Twilio's. One background service fed by bounded queues, so the API answers at
/// once and thousands of messages per second cost a queue write each, not a thread or a timer.
/// </summary>
internal sealed partial class StatusCallbackDispatcher : BackgroundService
{
    public const string HttpClientName = "carrier-simulator-callbacks";

    private static readonly TimeSpan[] RetryBackoff =
        [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(500)];

    private readonly CarrierSimulator _carrier;
    private readonly IHttpClientFactory _httpClientFactory;
    private readonly TimeProvider _time;
    private readonly ILogger<StatusCallbackDispatcher> _logger;
    private readonly CarrierSimulatorOptions _options;

    // Two stages, each with one fixed delay, so each queue is ordered by due time and a reader only ever waits
    // for the item at its head.
    private readonly Channel<CallbackWork> _toSend;
    private readonly Channel<CallbackWork> _toFinish;
    private readonly SemaphoreSlim _postSlots;

    public StatusCallbackDispatcher(
        CarrierSimulator carrier,
        IHttpClientFactory httpClientFactory,
        TimeProvider time,
        IOptions<CarrierSimulatorOptions> options,
        ILogger<StatusCallbackDispatcher> logger)
    {
        _carrier = carrier;
        _httpClientFactory = httpClientFactory;
        _time = time;
        _logger = logger;
        _options = options.Value;
        var queueOptions = new BoundedChannelOptions(_options.CallbackQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        };
        _toSend = Channel.CreateBounded<CallbackWork>(queueOptions);
        _toFinish = Channel.CreateBounded<CallbackWork>(queueOptions);
        _postSlots = new SemaphoreSlim(_options.MaxConcurrentCallbacks, _options.MaxConcurrentCallbacks);
    }

    /// <summary>Schedules the carrier's progress for a message just accepted.</summary>
    public ValueTask ScheduleAsync(SimulatedMessage message, CancellationToken cancellationToken)
    {
        var work = new CallbackWork(message.Sid, _time.GetUtcNow() + _options.SentDelay);
        return _toSend.Writer.TryWrite(work) ? ValueTask.CompletedTask : _toSend.Writer.WriteAsync(work, cancellationToken);
    }

    public override void Dispose()
    {
        _postSlots.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.WhenAll(
                PumpAsync(_toSend.Reader, SendAsync, stoppingToken),
                PumpAsync(_toFinish.Reader, FinishAsync, stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: callbacks still queued are lost, as they would be if the drill host stopped.
        }
    }

    private async Task PumpAsync(
        ChannelReader<CallbackWork> reader,
        Func<CallbackWork, CancellationToken, Task<CallbackWork?>> step,
        CancellationToken stoppingToken)
    {
        await foreach (var work in reader.ReadAllAsync(stoppingToken))
        {
            var wait = work.Due - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, stoppingToken);
            }

            await _postSlots.WaitAsync(stoppingToken);
            _ = RunStepAsync(step, work, stoppingToken);
        }
    }

    private async Task RunStepAsync(
        Func<CallbackWork, CancellationToken, Task<CallbackWork?>> step,
        CallbackWork work,
        CancellationToken stoppingToken)
    {
        CallbackWork? next = null;
        try
        {
            next = await step(work, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            LogStepFailed(_logger, exception, work.MessageSid);
        }
        finally
        {
            _postSlots.Release();
        }

        // Queued after the slot is given back: a full second stage must not hold the slots its own reader needs.
        if (next is { } finish)
        {
            try
            {
                await _toFinish.Writer.WriteAsync(finish, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    private async Task<CallbackWork?> SendAsync(CallbackWork work, CancellationToken stoppingToken)
    {
        var now = _time.GetUtcNow();
        var failed = false;
        var message = _carrier.Update(work.MessageSid, current =>
        {
            var outcome = DrillMagicNumbers.OutcomeFor(current.To);
            failed = outcome is DeliveryOutcome.Failed or DeliveryOutcome.FailedOptedOut;
            return current with
            {
                Status = failed ? "failed" : "sent",
                ErrorCode = outcome == DeliveryOutcome.FailedOptedOut ? 21610 : failed ? 30006 : null,
                ErrorMessage = outcome == DeliveryOutcome.FailedOptedOut ? "Attempt to send to unsubscribed recipient"
                    : failed ? "Landline or unreachable carrier" : null,
                From = current.From ?? ServiceSenderFor(current.To),
                // Twilio fills date_sent only once the carrier has the message; a failed send never gets one.
                DateSent = failed ? null : now,
                DateUpdated = now,
            };
        });
        if (message is null)
        {
            return null;
        }

        await PostAsync(message, stoppingToken);
        return failed || DrillMagicNumbers.OutcomeFor(message.To) == DeliveryOutcome.NoReceipt
            ? null
            : new CallbackWork(message.Sid, _time.GetUtcNow() + _options.DeliveredDelay);
    }

    private async Task<CallbackWork?> FinishAsync(CallbackWork work, CancellationToken stoppingToken)
    {
        var now = _time.GetUtcNow();
        var message = _carrier.Update(work.MessageSid, current =>
            DrillMagicNumbers.OutcomeFor(current.To) == DeliveryOutcome.Undelivered
                ? current with { Status = "undelivered", ErrorCode = 30003, ErrorMessage = "Unreachable destination handset", DateUpdated = now }
                : current with { Status = "delivered", DateUpdated = now });
        if (message is not null)
        {
            await PostAsync(message, stoppingToken);
        }

        return null;
    }

    private async Task PostAsync(SimulatedMessage message, CancellationToken stoppingToken)
    {
        if (message.StatusCallback is not { } url)
        {
            return;
        }

        var fields = CallbackFields(message);
        var signature = TwilioSignature.Compute(_options.AuthToken, url, fields);
        var client = _httpClientFactory.CreateClient(HttpClientName);

        for (var attempt = 0; ; attempt++)
        {
            HttpStatusCode? status = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(fields) };
                request.Headers.Add("X-Twilio-Signature", signature);
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stoppingToken);
                status = response.StatusCode;
                if ((int)status < 500)
                {
                    var posted = response.IsSuccessStatusCode;
                    _carrier.CountCallback(posted);
                    if (!posted)
                    {
                        // Twilio does not retry a 4xx either; a refused callback usually means a signature or URL mismatch.
                        LogCallbackRefused(_logger, message.Status, message.Sid, (int)status);
                    }

                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // HttpClient's timeout: the webhook is too slow, which is worth a retry like a connection error.
            }

            if (attempt >= RetryBackoff.Length)
            {
                _carrier.CountCallback(posted: false);
                LogCallbackDropped(_logger, message.Status, message.Sid, attempt + 1, (int?)status);
                return;
            }

            await Task.Delay(RetryBackoff[attempt], _time, stoppingToken);
        }
    }

    private static List<KeyValuePair<string, string>> CallbackFields(SimulatedMessage message)
    {
        var fields = new List<KeyValuePair<string, string>>(10)
        {
            new("AccountSid", message.AccountSid),
            new("ApiVersion", TwilioApiJson.ApiVersion),
            new("From", message.From ?? ""),
            new("MessageSid", message.Sid),
            new("MessageStatus", message.Status),
            new("SmsSid", message.Sid),
            new("SmsStatus", message.Status),
            new("To", message.To),
        };
        if (message.ErrorCode is { } errorCode)
        {
            fields.Add(new("ErrorCode", errorCode.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        if (message.MessagingServiceSid is { } serviceSid)
        {
            fields.Add(new("MessagingServiceSid", serviceSid));
        }

        return fields;
    }

    private static string ServiceSenderFor(string to) =>
        DrillMagicNumbers.IsWhatsApp(to) ? DrillMagicNumbers.WhatsAppPrefix + DrillMagicNumbers.ServiceSender : DrillMagicNumbers.ServiceSender;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drill carrier: the {MessageStatus} status callback for {MessageSid} was refused with HTTP {StatusCode}")]
    private static partial void LogCallbackRefused(ILogger logger, string messageStatus, string messageSid, int statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drill carrier: dropped the {MessageStatus} status callback for {MessageSid} after {Attempts} attempts (last HTTP status {StatusCode})")]
    private static partial void LogCallbackDropped(ILogger logger, string messageStatus, string messageSid, int attempts, int? statusCode);

    [LoggerMessage(Level = LogLevel.Error, Message = "Drill carrier: advancing {MessageSid} failed")]
    private static partial void LogStepFailed(ILogger logger, Exception exception, string messageSid);

    private readonly record struct CallbackWork(string MessageSid, DateTimeOffset Due);
}
