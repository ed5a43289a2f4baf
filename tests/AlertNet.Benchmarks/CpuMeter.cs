using System.Globalization;

namespace AlertNet.Benchmarks;

/// <summary>
/// Where the machine's CPU went during a phase: this process (AlertNet in-process and the load generator), each
/// child process, PostgreSQL, and everything else. On two shared cores that says both what limits a figure and
/// whether someone else's build or test run was eating into it. Read from /proc, in clock ticks.
/// </summary>
internal static class CpuMeter
{
    private const string Bench = "benchmark process (AlertNet in-process + load)";
    // The whole local cluster: other users' test databases on it count here too.
    private const string Postgres = "PostgreSQL (whole cluster)";

    private static readonly Dictionary<int, string> Roles = [];
    private static readonly Dictionary<int, long> FinalTicks = [];

    /// <summary>Names a child process for the phase lines.</summary>
    public static void Track(int processId, string role)
    {
        lock (Roles)
        {
            Roles[processId] = role;
        }
    }

    /// <summary>Keeps a child's CPU time before it is stopped: once it has exited, /proc no longer has it.</summary>
    public static void Forget(int processId)
    {
        lock (Roles)
        {
            if (Ticks(processId) is { } ticks)
            {
                FinalTicks[processId] = ticks;
            }
        }
    }

    public static Sample Take()
    {
        if (!File.Exists("/proc/stat"))
        {
            return new Sample(0, 0, 0, 0, []);
        }

        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal (guest time is already inside user).
        var total = cpu.Take(8).Sum();
        var idle = cpu[3] + cpu[4];
        // Interrupt time is no process's: on loopback it is mostly the network stack carrying our own requests.
        var interrupts = cpu[5] + cpu[6];
        var steal = cpu[7];

        var byRole = new Dictionary<string, long>(StringComparer.Ordinal) { [Bench] = Ticks(Environment.ProcessId) ?? 0 };
        lock (Roles)
        {
            foreach (var (pid, role) in Roles)
            {
                byRole[role] = byRole.GetValueOrDefault(role) + (Ticks(pid) ?? FinalTicks.GetValueOrDefault(pid));
            }
        }

        // Backends come and go with connections; an exited backend's time is added to the postmaster's
        // children time when it is reaped, so live processes plus the postmaster's children time is the whole.
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var pid)
                && ReadOrNull(Path.Combine(dir, "comm"))?.Trim() == "postgres"
                && Stat(pid) is { } stat)
            {
                var isPostmaster = ReadOrNull($"/proc/{stat.ParentId}/comm")?.Trim() != "postgres";
                byRole[Postgres] = byRole.GetValueOrDefault(Postgres) + stat.Ticks + (isPostmaster ? stat.ChildrenTicks : 0);
            }
        }

        return new Sample(total, idle, interrupts, steal, byRole);
    }

    /// <summary>"CPU: X 95 %, Y 40 %, …" in per cent of one core, so two busy cores make 200 %.</summary>
    public static string Describe(Sample start, Sample end) => Measure(start, end).Text;

    /// <summary>The phase's CPU line, and how much of a core other processes on the machine took on average.</summary>
    public static (string Text, double OthersPercent) Measure(Sample start, Sample end)
    {
        var elapsed = end.Total - start.Total;
        if (elapsed <= 0)
        {
            return ("CPU: not measured", 0);
        }

        var cores = Environment.ProcessorCount;
        string Percent(long ticks) => (100.0 * cores * ticks / elapsed).ToString("0", CultureInfo.InvariantCulture) + " %";
        var parts = end.ByRole.Select(r => (r.Key, Ticks: r.Value - start.ByRole.GetValueOrDefault(r.Key))).Where(r => r.Ticks > 0).ToList();
        var interrupts = end.Interrupts - start.Interrupts;
        var steal = end.Steal - start.Steal;
        var busy = elapsed - (end.Idle - start.Idle);
        var others = Math.Max(0, busy - interrupts - steal - parts.Sum(p => p.Ticks));
        var text = $"CPU (one core = 100 %, {cores} cores): " + string.Join(", ", parts.Select(p => $"{p.Key} {Percent(p.Ticks)}")) +
            $", interrupts (loopback network) {Percent(interrupts)}" + (steal > 0 ? $", stolen by the hypervisor {Percent(steal)}" : "") +
            $", other processes on the machine {Percent(others)}, idle {Percent(end.Idle - start.Idle)}";
        return (text, 100.0 * cores * others / elapsed);
    }

    /// <summary>utime + stime of a process, or null when it is gone.</summary>
    private static long? Ticks(int processId) => Stat(processId)?.Ticks;

    private static (int ParentId, long Ticks, long ChildrenTicks)? Stat(int processId)
    {
        var stat = ReadOrNull($"/proc/{processId}/stat");
        if (stat is null)
        {
            return null;
        }

        // The command name is in parentheses and may hold spaces: count fields after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int index) => long.Parse(fields[index], CultureInfo.InvariantCulture);
        return ((int)Field(1), Field(11) + Field(12), Field(13) + Field(14));
    }

    private static string? ReadOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public sealed record Sample(long Total, long Idle, long Interrupts, long Steal, Dictionary<string, long> ByRole);
}
