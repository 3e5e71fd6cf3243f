using System.Diagnostics;
using System.Net.Sockets;
using MapReduce.Storage.Blobs;

namespace MapReduce.IntegrationTests;

/// <summary>
/// A real S3 API server for a test class: s3rver (npm) on a free port of 127.0.0.1, with its own
/// folder and one bucket, stopped and deleted on dispose. Its fixed credentials are S3RVER/S3RVER.
/// </summary>
public sealed class S3Server : IAsyncDisposable
{
    public const string Bucket = "mapreduce-test";
    private const string Credential = "S3RVER";

    private readonly Process _process;
    private readonly string _folder;

    private S3Server(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The service URL, e.g. http://127.0.0.1:41234.</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>
    /// Why no server can be had on this machine, or null when one can. Under CI (CI=true, whose
    /// .ci/run installs s3rver) a missing server is a failure, never a skip.
    /// </summary>
    public static string? Unavailable =>
        FindProgram() is not null || Environment.GetEnvironmentVariable("CI") == "true" ? null : "install s3rver: npm install -g s3rver";

    /// <summary>The mapreduce.blob-store block that points a cluster at this server's bucket (or at a proxy in front of it).</summary>
    /// <param name="bucket">Another bucket (one that does not exist, say).</param>
    /// <param name="credential">Other credentials (ones the server does not know, say).</param>
    public string Hocon(string? serviceUrl = null, string prefix = "", string bucket = Bucket, string credential = Credential) => $$"""
        mapreduce.blob-store {
          kind = s3
          service-url = "{{serviceUrl ?? Url}}"
          bucket = {{bucket}}
          prefix = "{{prefix}}"
          access-key = {{credential}}
          secret-key = {{credential}}
        }
        """;

    /// <summary>The options of a client of the bucket, as the nodes make them.</summary>
    public S3BlobStoreOptions Options(string prefix = "", string? serviceUrl = null) =>
        new(serviceUrl ?? Url, Bucket, prefix, "us-east-1", ForcePathStyle: true, Credential, Credential);

    /// <summary>A client of the bucket, as the nodes make one, to list and read it from the test.</summary>
    public S3BlobStore Client(string prefix = "") => new(Options(prefix));

    /// <summary>A plain AWS SDK client of the server, to write objects as no MapReduce.NET writer would and to read their metadata.</summary>
    public Amazon.S3.AmazonS3Client RawClient() => new(new Amazon.Runtime.BasicAWSCredentials(Credential, Credential), new Amazon.S3.AmazonS3Config
    {
        ServiceURL = Url,
        AuthenticationRegion = "us-east-1",
        ForcePathStyle = true,
        RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED,
    });

    public static async Task<S3Server> StartAsync()
    {
        var program = FindProgram() ?? throw new InvalidOperationException("s3rver is not installed: npm install -g s3rver");
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", "s3-" + Guid.NewGuid().ToString("N"))).FullName;
        var port = MapReduce.Node.LocalCluster.FreePort();
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        foreach (var arg in new[] { "-d", Path.Combine(folder, "data"), "-a", "127.0.0.1", "-p", port.ToString(), "--silent", "--configure-bucket", Bucket })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new S3Server(process, folder, port);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                if (process.HasExited) throw new InvalidOperationException($"s3rver exited with {process.ExitCode} before it listened");
                try
                {
                    using var tcp = new TcpClient();
                    await tcp.ConnectAsync("127.0.0.1", port);
                    break;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(100);
                }
            }
            // The bucket is made just after the port opens.
            using var client = server.Client();
            await Cli.EventuallyAsync(() => TryList(client), TimeSpan.FromSeconds(30), $"bucket {Bucket} not ready on s3rver");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private static bool TryList(S3BlobStore client)
    {
        try { client.ListAsync().GetAwaiter().GetResult(); return true; }
        catch (Amazon.S3.AmazonS3Exception) { return false; }
    }

    private static string? FindProgram() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(folder => Path.Combine(folder, "s3rver"))
            .FirstOrDefault(File.Exists);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
