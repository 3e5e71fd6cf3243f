using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MapReduce.IntegrationTests;

/// <summary>One host of <see cref="NetworkHosts"/>: a network namespace with one address on the test's bridge.</summary>
/// <param name="BridgePort">The veth end plugged into the bridge (in the test's own namespace): set down, the host is cut off.</param>
public sealed record NetworkHost(string Name, string Namespace, string Address, string BridgePort);

/// <summary>
/// Separate hosts on this machine, for tests: one Linux network namespace per host, each with its
/// own loopback and one address on a private bridge (a veth pair per host), so processes on
/// different hosts talk over a real network with addresses and ports of their own, a host can be
/// killed whole (every process in its namespace) or cut off (its link down). The test's own
/// process sits on the bridge too, at <see cref="Gateway"/>. The hosts share the file system: a
/// host's folder is a convention of the test, not an isolation.
/// Needs root and iproute2. Every name carries a random run id and the subnet is one no interface
/// uses yet, so leftovers of a crashed run cannot break the next; each run also registers itself
/// in <see cref="RegistryFolder"/>, and a run whose process is gone is torn down by the next one.
/// </summary>
public sealed class NetworkHosts : IAsyncDisposable
{
    private const string Prefix = "mrnet";
    private static readonly string RegistryFolder = Path.Combine(Path.GetTempPath(), "mapreduce-netns");
    private static readonly Lazy<string?> WhyUnavailable = new(Probe);

    private readonly string _id;
    private readonly Dictionary<string, NetworkHost> _hosts = new(StringComparer.Ordinal);

    private NetworkHosts(string id, string subnetPrefix)
    {
        _id = id;
        Bridge = Prefix + id;
        SubnetPrefix = subnetPrefix;
    }

    /// <summary>The bridge's name (a network interface of the test's own namespace).</summary>
    public string Bridge { get; }

    /// <summary>The first three octets of the /24 subnet, e.g. "10.213.7".</summary>
    public string SubnetPrefix { get; }

    /// <summary>The subnet in CIDR notation.</summary>
    public string Subnet => SubnetPrefix + ".0/24";

    /// <summary>The test process's own address on the bridge: what the hosts reach it at.</summary>
    public string Gateway => SubnetPrefix + ".1";

    public NetworkHost this[string name] => _hosts[name];

    public IReadOnlyCollection<NetworkHost> Hosts => _hosts.Values;

    /// <summary>
    /// Why hosts cannot be made here (one line), or null when they can. Under CI (CI=true; CI runs
    /// as root) never a reason: a test that needs hosts must then fail, not skip.
    /// </summary>
    public static string? Unavailable => Environment.GetEnvironmentVariable("CI") == "true" ? null : WhyUnavailable.Value;

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "separate hosts are Linux network namespaces; this is not Linux";
        if (geteuid() != 0) return "separate hosts need root (ip netns add, veth pairs, a bridge); run the tests as root";
        try
        {
            // Everything a run does, once: a namespace, a bridge, a veth pair between them.
            CreateAsync(["probe"]).GetAwaiter().GetResult().DisposeAsync().AsTask().GetAwaiter().GetResult();
            return null;
        }
        catch (Exception e)
        {
            return $"network namespaces cannot be made here: {e.Message.Split('\n')[0]}";
        }
    }

    [DllImport("libc")]
    private static extern uint geteuid();

    /// <summary>Makes the bridge and one host per name, addresses .2, .3, … in name order given.</summary>
    public static async Task<NetworkHosts> CreateAsync(IReadOnlyList<string> names)
    {
        await RemoveLeftoversAsync();
        var id = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..2]);
        var hosts = new NetworkHosts(id, await FreeSubnetAsync());
        Directory.CreateDirectory(RegistryFolder);
        await File.WriteAllTextAsync(Path.Combine(RegistryFolder, id), Environment.ProcessId.ToString());
        try
        {
            await Ip("link", "add", hosts.Bridge, "type", "bridge");
            await Ip("addr", "add", hosts.Gateway + "/24", "dev", hosts.Bridge);
            await Ip("link", "set", hosts.Bridge, "up");
            for (var i = 0; i < names.Count; i++)
            {
                var host = new NetworkHost(names[i], $"{Prefix}{id}-{names[i]}", $"{hosts.SubnetPrefix}.{i + 2}", $"{Prefix}{id}v{i + 2}");
                hosts._hosts.Add(host.Name, host);
                await Ip("netns", "add", host.Namespace);
                await Ip("link", "add", host.BridgePort, "type", "veth", "peer", "name", "eth0", "netns", host.Namespace);
                await Ip("link", "set", host.BridgePort, "master", hosts.Bridge, "up");
                await Ip("-n", host.Namespace, "addr", "add", host.Address + "/24", "dev", "eth0");
                await Ip("-n", host.Namespace, "link", "set", "eth0", "up");
                await Ip("-n", host.Namespace, "link", "set", "lo", "up");
            }
            return hosts;
        }
        catch
        {
            await hosts.DisposeAsync();
            throw;
        }
    }

    /// <summary>How to start a .NET program of the test's output folder on <paramref name="host"/>.</summary>
    public static ProcessStartInfo StartInfo(NetworkHost host, string program, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        // `ip netns exec` execs the program in place: the started process is the program itself.
        foreach (var arg in new[] { "netns", "exec", host.Namespace, "dotnet", Path.Combine(AppContext.BaseDirectory, program + ".dll") }.Concat(args))
            start.ArgumentList.Add(arg);
        return start;
    }

    /// <summary>Every process running on the host (in its namespace).</summary>
    public static async Task<IReadOnlyList<int>> PidsAsync(NetworkHost host)
    {
        var output = await Ip("netns", "pids", host.Namespace);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
    }

    /// <summary>The host dies: SIGKILL to every process on it; returns once none runs.</summary>
    public static async Task KillAllAsync(NetworkHost host, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        IReadOnlyList<int> left;
        while ((left = await PidsAsync(host)).Count > 0)
        {
            foreach (var pid in left) kill(pid, 9);
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"processes {string.Join(", ", left)} on host {host.Name} still run after SIGKILL");
            await Task.Delay(100);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    /// <summary>Pulls the host's cable: nothing goes in or out until <see cref="ReconnectAsync"/>.</summary>
    public static Task CutAsync(NetworkHost host) => Ip("link", "set", host.BridgePort, "down");

    public static Task ReconnectAsync(NetworkHost host) => Ip("link", "set", host.BridgePort, "up");

    public async ValueTask DisposeAsync()
    {
        await TearDownAsync(_id);
    }

    /// <summary>Kills every process of run <paramref name="id"/>'s hosts, deletes its namespaces (and with them their veth pairs) and its bridge.</summary>
    private static async Task TearDownAsync(string id)
    {
        var namespaces = (await Ip("netns", "list")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ')[0]).Where(name => name.StartsWith($"{Prefix}{id}-", StringComparison.Ordinal)).ToList();
        foreach (var name in namespaces)
        {
            // A namespace deleted while a process still runs in it lives on, with its link.
            await KillAllAsync(new NetworkHost(name, name, "", ""), TimeSpan.FromSeconds(20));
            await Ip("netns", "del", name);
        }
        if ((await Ip("-o", "link", "show")).Contains($" {Prefix}{id}:", StringComparison.Ordinal)) await Ip("link", "del", Prefix + id);
        File.Delete(Path.Combine(RegistryFolder, id));
    }

    /// <summary>Tears down runs whose test process is gone (killed before it could clean up).</summary>
    private static async Task RemoveLeftoversAsync()
    {
        if (!Directory.Exists(RegistryFolder)) return;
        foreach (var file in Directory.GetFiles(RegistryFolder))
        {
            if (int.TryParse(await File.ReadAllTextAsync(file), out var owner) && Directory.Exists($"/proc/{owner}")) continue;
            await TearDownAsync(Path.GetFileName(file));
        }
    }

    /// <summary>A 10.213.X.0/24 subnet that no interface of this namespace has an address or route in.</summary>
    private static async Task<string> FreeSubnetAsync()
    {
        var used = await Ip("-4", "-o", "addr", "show") + await Ip("-4", "route", "show");
        foreach (var x in Enumerable.Range(0, 256).OrderBy(_ => Random.Shared.Next()))
        {
            var prefix = $"10.213.{x}";
            if (!used.Contains(prefix + ".", StringComparison.Ordinal)) return prefix;
        }
        throw new InvalidOperationException("no free 10.213.X.0/24 subnet");
    }

    /// <summary>Runs iproute2's <c>ip</c>; returns its output, or throws with its error.</summary>
    private static async Task<string> Ip(params string[] args)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("ip could not be started");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)} exited with {process.ExitCode}: {(await error).Trim()}");
        return await output;
    }
}
