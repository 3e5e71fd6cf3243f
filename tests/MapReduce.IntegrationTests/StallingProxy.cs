using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MapReduce.IntegrationTests;

/// <summary>
/// A TCP proxy in front of the S3 server that forwards every connection as is, except, once armed
/// (<see cref="Arm"/>), the next request whose line starts with <c>PUT {pathPrefix}</c>: of that one it forwards the headers and
/// <see cref="BodyBytesLet"/> bytes of the body, then holds the rest, so the writer is caught
/// mid-upload for as long as the test likes (it kills the writer meanwhile).
/// </summary>
public sealed class StallingProxy : IAsyncDisposable
{
    public const int BodyBytesLet = 1024;

    private readonly TcpListener _listener;
    private readonly int _targetPort;
    private readonly string _pathPrefix;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<string> _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<TcpClient> _connections = [];
    private readonly TaskCompletionSource _heldEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _armed;

    /// <param name="listenPort">The port to listen on; 0: any free one.</param>
    public StallingProxy(int targetPort, string pathPrefix, int listenPort = 0)
    {
        _listener = new TcpListener(IPAddress.Loopback, listenPort);
        _targetPort = targetPort;
        _pathPrefix = pathPrefix;
        _listener.Start();
        _ = AcceptAsync();
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Completes with the request path (/bucket/key) once an upload is held mid-body.</summary>
    public Task<string> Stalled => _stalled.Task;

    /// <summary>Completes once the held upload's writer went away and the proxy cut the upload off at the server.</summary>
    public Task HeldUploadEnded => _heldEnded.Task;

    /// <summary>Holds the next matching upload.</summary>
    public void Arm() => Volatile.Write(ref _armed, 1);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            var server = new TcpClient();
            var upstream = new Upstream();
            lock (_connections) _connections.AddRange([client, server]);
            _ = Task.Run(async () =>
            {
                try
                {
                    await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
                    await Task.WhenAny(UpstreamAsync(client.GetStream(), server.GetStream(), upstream), PumpAsync(server.GetStream(), client.GetStream()));
                }
                catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException) { }
                finally
                {
                    // Both sides go together: the server sees the upload cut off, as when its writer dies.
                    client.Client.Close(0);
                    server.Client.Close(0);
                    if (upstream.Held) _heldEnded.TrySetResult();
                }
            });
        }
    }

    private async Task PumpAsync(Stream from, Stream to)
    {
        var buffer = new byte[65536];
        int read;
        while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0) await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
    }

    /// <summary>
    /// Client to server: forwards, except that of the armed request only the headers and
    /// <see cref="BodyBytesLet"/> body bytes go through; the rest is read and dropped, so the
    /// writer's death ends the connection, and the server sees the upload cut off.
    /// </summary>
    private sealed class Upstream
    {
        public volatile bool Held;
    }

    private async Task UpstreamAsync(Stream from, Stream to, Upstream state)
    {
        var buffer = new byte[65536];
        var seen = new StringBuilder();
        string? held = null;
        long bodyLeft = 0;
        int read;
        while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
        {
            if (held is not null)
            {
                var let = (int)Math.Min(read, bodyLeft);
                if (let > 0) await to.WriteAsync(buffer.AsMemory(0, let), _stop.Token);
                bodyLeft -= let;
                if (bodyLeft == 0) _stalled.TrySetResult(held);
                continue;
            }
            if (Volatile.Read(ref _armed) == 1)
            {
                // Latin-1 keeps byte offsets equal to char offsets.
                seen.Append(Encoding.Latin1.GetString(buffer, 0, read));
                var text = seen.ToString();
                var start = text.IndexOf("PUT " + _pathPrefix, StringComparison.Ordinal);
                var headersEnd = start < 0 ? -1 : text.IndexOf("\r\n\r\n", start, StringComparison.Ordinal);
                if (headersEnd >= 0 && Interlocked.Exchange(ref _armed, 0) == 1)
                {
                    held = text[(start + 4)..text.IndexOf(' ', start + 4)];
                    state.Held = true;
                    var bodyStart = headersEnd + 4 - (text.Length - read);
                    var let = (int)Math.Min(read - bodyStart, BodyBytesLet);
                    await to.WriteAsync(buffer.AsMemory(0, bodyStart + let), _stop.Token);
                    bodyLeft = BodyBytesLet - let;
                    if (bodyLeft == 0) _stalled.TrySetResult(held);
                    continue;
                }
                if (seen.Length > 1 << 16) seen.Remove(0, seen.Length - 4096);
            }
            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_connections) foreach (var c in _connections) c.Dispose();
        _stop.Dispose();
    }
}
