using System.Collections.Concurrent;

namespace AlertNet.Tests.Support;

/// <summary>Keeps every log line a test host writes, so tests can check what reached the logs.
/// Scopes (alert id, delivery batch) are written after the message, as <c>[AlertId=5]</c>.</summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<string> _lines = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines, this);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines, LogCapture capture) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new System.Text.StringBuilder();
            capture._scopes.ForEachScope((scope, text) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object>> pairs)
                {
                    foreach (var (key, value) in pairs)
                    {
                        text.Append(System.Globalization.CultureInfo.InvariantCulture, $" [{key}={value}]");
                    }
                }
                else
                {
                    text.Append(System.Globalization.CultureInfo.InvariantCulture, $" [{scope}]");
                }
            }, scopes);
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{scopes} {exception}");
        }
    }
}
