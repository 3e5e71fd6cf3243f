using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using MapReduce.Actors.Hosting;
using MapReduce.Storage.Blobs;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// One load per code id per process: concurrent tasks for the same code share one Lazy, so Roslyn
/// (or an archive's extraction) runs once even when several tasks start together. A failed
/// compilation is cached too (the same source would fail the same way). Given a folder, compiled
/// scripts are also kept on disk by code id (a content hash of task.csx), so a later process (a
/// re-run, a restarted worker) loads the image without loading Roslyn at all; the file name carries
/// <see cref="ImageVersion"/>: an image built by another build of this assembly or another runtime is
/// never loaded. A job project's archive is extracted there once per code id, and loaded from there.
/// Code comes in two steps: <see cref="GetLoaded"/> (fetch, compile or read from disk, load: none
/// of its code runs, so an attempt may stop waiting for it) and <see cref="GetStarted"/> (its
/// top-level code or constructor: user code, started only for an attempt that waits for it, see TaskExecutor).
/// Each code id lives in a collectible load context of its own. An attempt holds it with
/// <see cref="Use"/>; a code id that no attempt has used for <c>unloadAfter</c> is forgotten and
/// its context unloaded (checked when an attempt starts or ends, and every half of that time), so
/// a worker that ran many jobs holds only the code of the recent ones.
/// </summary>
public sealed partial class CompiledCodeCache : IDisposable
{
    private readonly string? _folder;
    private readonly Action<string>? _log;
    private readonly TimeProvider _time;
    /// <summary>How long a code id no attempt uses stays loaded (mapreduce.worker.code-unload-after).</summary>
    public TimeSpan UnloadAfter { get; }
    private readonly ITimer _sweep;
    private readonly ConcurrentDictionary<string, Lazy<Task<LoadedCode>>> _loaded = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<IUserTask>>> _started = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (int Users, DateTimeOffset LastUsed)> _uses = new();
    /// <summary>Where projects were extracted without a cache folder: deleted when they are unloaded.</summary>
    private readonly ConcurrentDictionary<string, string> _temporary = new();

    public CompiledCodeCache(string? folder = null, Action<string>? log = null, TimeProvider? time = null, TimeSpan? unloadAfter = null)
    {
        _folder = folder;
        _log = log;
        _time = time ?? TimeProvider.System;
        UnloadAfter = unloadAfter ?? MapReduceSettings.Defaults.WorkerWaits.CodeUnloadAfter;
        // At least a second apart: a floor on the sweep's cost, not a wait anyone sizes.
        var every = UnloadAfter / 2 > TimeSpan.FromSeconds(1) ? UnloadAfter / 2 : TimeSpan.FromSeconds(1);
        _sweep = _time.CreateTimer(_ => Sweep(), null, every, every);
    }

    /// <summary>Raised with a code id whose code was unloaded: whatever holds objects of its types (a pooled map buffer) drops them.</summary>
    public event Action<string>? Unloaded;

    /// <summary>
    /// This build of MapReduce.Actors and of the SDK, and the runtime's version. A build is its MVID,
    /// which a deterministic build derives from its content, the references (Roslyn's version) included.
    /// </summary>
    public static readonly string ImageVersion = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
        $"{typeof(CompiledCodeCache).Assembly.ManifestModule.ModuleVersionId}|{typeof(MapReduce.Sdk.JobFunctions).Assembly.ManifestModule.ModuleVersionId}|{Environment.Version}")))[..16];

    /// <summary>Both steps: the code loaded, then started.</summary>
    public async Task<IUserTask> GetOrCompile(string codeId, Func<Task<byte[]>> loadBlob) =>
        await GetStarted(codeId, await GetLoaded(codeId, loadBlob).ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>
    /// Holds <paramref name="codeId"/> loaded until the lease is disposed (an attempt's whole run:
    /// its code may load more of its assemblies at any time, which an unloading context refuses).
    /// </summary>
    public IDisposable Use(string codeId)
    {
        lock (_gate) _uses[codeId] = (_uses.GetValueOrDefault(codeId).Users + 1, _time.GetUtcNow());
        Sweep();
        return new Lease(this, codeId);
    }

    private sealed class Lease(CompiledCodeCache cache, string codeId) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
            lock (cache._gate) cache._uses[codeId] = (cache._uses[codeId].Users - 1, cache._time.GetUtcNow());
            cache.Sweep();
        }
    }

    /// <summary>The code of <paramref name="codeId"/>, from the disk or fetched (and compiled or extracted), loaded; none of its code has run.</summary>
    /// <summary>
    /// When set (--in-process, where the one job's task.csx is this file on this machine): scripts
    /// are compiled for a debugger with this path as their source document (<see cref="ScriptCompiler.CompileDebugImage"/>).
    /// </summary>
    public string? DebugScriptPath { get; init; }

    public Task<LoadedCode> GetLoaded(string codeId, Func<Task<byte[]>> loadBlob)
    {
        lock (_gate) _uses[codeId] = (_uses.GetValueOrDefault(codeId).Users, _time.GetUtcNow());
        return _loaded.GetOrAdd(codeId, id => new Lazy<Task<LoadedCode>>(() =>
            CodeBlob.KindOf(id) == CodeKind.Project ? LoadProjectAsync(id, loadBlob) : LoadScriptAsync(id, loadBlob))).Value;
    }

    private async Task<LoadedCode> LoadScriptAsync(string id, Func<Task<byte[]>> loadBlob)
    {
        if (DebugScriptPath is { } debugPath)
        {
            // Never from or into the disk cache: a cached image is optimized and has no debug information.
            var bytes = await loadBlob().ConfigureAwait(false);
            return await Task.Run(() => ScriptCompiler.LoadImage(ScriptCompiler.CompileDebugImage(bytes, debugPath), id)).ConfigureAwait(false);
        }
        var file = ImagePath(id);
        if (file is not null && await Task.Run(() => TryLoad(file, id)).ConfigureAwait(false) is { } loaded) return loaded;
        var source = Encoding.UTF8.GetString(await loadBlob().ConfigureAwait(false));
        return await Task.Run(() =>
        {
            var image = ScriptCompiler.CompileImage(source);
            var script = ScriptCompiler.LoadImage(image, id);
            if (file is not null) Save(file, image);
            return script;
        }).ConfigureAwait(false);
    }

    /// <summary>A job project: its archive extracted once into the cache folder (or a temporary one), then loaded from there.</summary>
    private async Task<LoadedCode> LoadProjectAsync(string id, Func<Task<byte[]>> loadBlob)
    {
        var folder = ProjectFolder(id) ?? _temporary.GetOrAdd(id, _ => Path.Combine(Path.GetTempPath(), "mapreduce-code", $"{id}-{Environment.ProcessId}-{Guid.NewGuid():N}"));
        if (!Directory.Exists(folder))
        {
            var archive = await loadBlob().ConfigureAwait(false);
            await Task.Run(() =>
            {
                try
                {
                    JobArchive.Extract(archive, folder);
                }
                catch (JobArchiveException e)
                {
                    throw new CompileErrorException($"code {id}: {e.Message}");
                }
                catch (IOException) when (Directory.Exists(folder))
                {
                    // Another worker process on this machine extracted the same archive first: the same files.
                }
            }).ConfigureAwait(false);
        }
        else _log?.Invoke($"{id}: job project loaded from {folder}");
        return await Task.Run(() => ProjectJob.Load(folder, id)).ConfigureAwait(false);
    }

    /// <summary>
    /// The code started: its top-level code (or job constructor) run once in this process, by the
    /// first caller, on a thread of its own; errors it throws (and binding errors) are kept, as a compile's are.
    /// </summary>
    public Task<IUserTask> GetStarted(string codeId, LoadedCode code) =>
        _started.GetOrAdd(codeId, _ => new Lazy<Task<IUserTask>>(() => Task.Run(code.Start))).Value;

    /// <summary>Forgets a code id whose source could not be loaded, so a later task can try again.</summary>
    public void Forget(string codeId) => _loaded.TryRemove(codeId, out _);

    /// <summary>Where the image of a code id lives; null without a folder, or for an id that is not a plain file name.</summary>
    public string? ImagePath(string codeId) =>
        _folder is null || !SafeId().IsMatch(codeId) ? null : Path.Combine(_folder, $"{codeId}-{ImageVersion}.dll");

    /// <summary>Where a job project's files are extracted; null without a folder, or for an id that is not a plain file name.</summary>
    public string? ProjectFolder(string codeId) =>
        _folder is null || !SafeId().IsMatch(codeId) ? null : Path.Combine(_folder, codeId);

    /// <summary>Unloads every code id that no attempt holds and that has not been used for the unload time.</summary>
    public void Sweep()
    {
        var now = _time.GetUtcNow();
        var unloaded = new List<(string Id, LoadedCode? Code)>();
        lock (_gate)
        {
            foreach (var (id, use) in _uses.ToList())
            {
                if (use.Users > 0 || now - use.LastUsed < UnloadAfter) continue;
                if (_loaded.TryGetValue(id, out var pending) && pending.IsValueCreated && !pending.Value.IsCompleted) continue; // still loading
                _uses.Remove(id);
                _started.TryRemove(id, out _);
                LoadedCode? code = null;
                if (_loaded.TryRemove(id, out var loaded) && loaded.IsValueCreated && loaded.Value.IsCompletedSuccessfully) code = loaded.Value.Result;
                unloaded.Add((id, code));
            }
        }
        foreach (var (id, code) in unloaded)
        {
            if (code is null) continue;
            code.Unload();
            DeleteTemporary(id);
            _log?.Invoke($"{id}: unloaded, no attempt used it for {UnloadAfter.TotalSeconds:0} s");
            Unloaded?.Invoke(id);
        }
    }

    public void Dispose()
    {
        _sweep.Dispose();
        foreach (var id in _temporary.Keys) DeleteTemporary(id);
    }

    /// <summary>A project extracted without a cache folder is deleted with its code (on Linux even while its files are still mapped).</summary>
    private void DeleteTemporary(string id)
    {
        if (!_temporary.TryRemove(id, out var folder)) return;
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// The cached image loaded, or null when there is none or it cannot be loaded (a torn or foreign
    /// file): that one is deleted and the source compiled again.
    /// </summary>
    private LoadedCode? TryLoad(string file, string codeId)
    {
        byte[] image;
        try { image = File.ReadAllBytes(file); }
        catch (IOException) { return null; } // absent (FileNotFound is an IOException) or unreadable
        catch (UnauthorizedAccessException) { return null; }
        try
        {
            var script = ScriptCompiler.LoadImage(image, codeId);
            _log?.Invoke($"{codeId}: compiled code loaded from {file}");
            return script;
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or TypeLoadException or MissingMethodException or InvalidOperationException)
        {
            _log?.Invoke($"{codeId}: ignoring the unreadable cached image {file} ({e.GetType().Name}); compiling again");
            try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            return null;
        }
    }

    /// <summary>Written under a temporary name and renamed: a reader sees the whole image or none. Best effort: a full disk only costs a compile later.</summary>
    private static void Save(string file, byte[] image)
    {
        var temp = $"{file}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllBytes(temp, image);
            File.Move(temp, file, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    // \z, not $: $ also matches before a final newline.
    [GeneratedRegex(@"^[A-Za-z0-9_.-]{1,128}\z")]
    private static partial Regex SafeId();
}
