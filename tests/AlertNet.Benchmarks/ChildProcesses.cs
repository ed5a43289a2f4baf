using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AlertNet.Benchmarks;

/// <summary>Starting and stopping the child processes of the bench and chaos commands: the emulator and AlertNet processes.</summary>
internal static class ChildProcesses
{
    private static readonly List<Process> Running = [];

    static ChildProcesses()
    {
        // Ctrl-C, `timeout` (SIGTERM) or an unhandled exception: leave no emulator or AlertNet behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    /// <summary>Starts a child with its output forwarded line by line behind a prefix. Stdin stays open
    /// (redirected) so that a child watching it notices when we are gone.</summary>
    public static Process Start(ProcessStartInfo start, string prefix, string role)
    {
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        process.OutputDataReceived += (_, e) => Forward(prefix, e.Data);
        process.ErrorDataReceived += (_, e) => Forward(prefix, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (Running)
        {
            Running.Add(process);
        }

        CpuMeter.Track(process.Id, role);
        return process;
    }

    /// <summary>Closes the child's stdin, gives it a moment to stop by itself, then kills it.</summary>
    public static async Task StopAsync(Process process, TimeSpan grace)
    {
        try
        {
            CpuMeter.Forget(process.Id);
            process.StandardInput.Close();
            if (!process.HasExited)
            {
                using var wait = new CancellationTokenSource(grace);
                try
                {
                    await process.WaitForExitAsync(wait.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(CancellationToken.None);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            lock (Running)
            {
                Running.Remove(process);
            }

            process.Dispose();
        }
    }

    /// <summary>SIGKILL (Process.Kill on Linux), then forgets the process.</summary>
    public static async Task KillAsync(Process process)
    {
        try
        {
            CpuMeter.Forget(process.Id);
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            lock (Running)
            {
                Running.Remove(process);
            }

            process.Dispose();
        }
    }

    /// <summary>This benchmark started again with other arguments: through the dotnet host when we run as
    /// <c>dotnet AlertNet.Benchmarks.dll</c>, directly when we run as the apphost.</summary>
    public static ProcessStartInfo Self(params string[] arguments)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        return IsDotnetHost(host)
            ? new ProcessStartInfo(host, [typeof(ChildProcesses).Assembly.Location, .. arguments])
            : new ProcessStartInfo(host, arguments);
    }

    /// <summary>The dotnet host, to run a framework-dependent dll such as AlertNet.dll.</summary>
    public static string DotnetHost() =>
        Environment.ProcessPath is { } path && IsDotnetHost(path) ? path : "dotnet";

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Peak and current resident set of a process, in bytes, from /proc (Linux).</summary>
    public static (long PeakRss, long Rss) Memory(int processId)
    {
        long Field(string[] lines, string name) =>
            lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal)) is { } line
                ? long.Parse(line[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024
                : 0;
        var status = File.ReadAllLines($"/proc/{processId}/status");
        return (Field(status, "VmHWM:"), Field(status, "VmRSS:"));
    }

    private static bool IsDotnetHost(string path) =>
        string.Equals(Path.GetFileNameWithoutExtension(path), "dotnet", StringComparison.OrdinalIgnoreCase);

    private static void Forward(string prefix, string? line)
    {
        if (!string.IsNullOrEmpty(line))
        {
            Console.WriteLine($"{prefix} {line}");
        }
    }

    private static void KillAll()
    {
        lock (Running)
        {
            foreach (var process in Running)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }
            }
        }
    }
}
