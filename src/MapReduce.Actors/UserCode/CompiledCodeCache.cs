using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// One compilation per code id per process: concurrent tasks for the same code share one Lazy, so
/// Roslyn runs once even when several tasks start together. A failed compilation is cached too
/// (the same source would fail the same way). Given a folder, compiled assemblies are also kept on
/// disk by code id (a content hash of task.csx), so a later process (a re-run, a restarted worker)
/// loads the image without loading Roslyn at all. The file name carries <see cref="ImageVersion"/>:
/// an image built by another build of this assembly or another runtime is never loaded.
/// A script comes in two steps: <see cref="GetLoaded"/> (fetch, compile or read from disk, load: none
/// of its code runs, so an attempt may stop waiting for it) and <see cref="GetStarted"/> (its
/// top-level code: user code, started only for an attempt that waits for it, see TaskExecutor).
/// </summary>
public sealed partial class CompiledCodeCache(string? folder = null, Action<string>? log = null)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<LoadedScript>>> _loaded = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<IUserTask>>> _started = new();

    /// <summary>
    /// This build of MapReduce.Actors and the runtime's version. The build is its MVID, which a
    /// deterministic build derives from its content, the references (Roslyn's version) included.
    /// </summary>
    public static readonly string ImageVersion = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
        $"{typeof(CompiledCodeCache).Assembly.ManifestModule.ModuleVersionId}|{Environment.Version}")))[..16];

    /// <summary>Both steps: the script loaded, then started.</summary>
    public async Task<IUserTask> GetOrCompile(string codeId, Func<Task<string>> loadSource) =>
        await GetStarted(codeId, await GetLoaded(codeId, loadSource).ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>The script's assembly, from the disk or fetched and compiled, loaded; none of its code has run.</summary>
    public Task<LoadedScript> GetLoaded(string codeId, Func<Task<string>> loadSource) =>
        _loaded.GetOrAdd(codeId, id => new Lazy<Task<LoadedScript>>(async () =>
        {
            var file = ImagePath(id);
            if (file is not null && await Task.Run(() => TryLoad(file, id)).ConfigureAwait(false) is { } loaded) return loaded;
            var source = await loadSource().ConfigureAwait(false);
            return await Task.Run(() =>
            {
                var image = ScriptCompiler.CompileImage(source);
                var script = ScriptCompiler.LoadImage(image, id);
                if (file is not null) Save(file, image);
                return script;
            }).ConfigureAwait(false);
        })).Value;

    /// <summary>
    /// The script started: its top-level code run once in this process, by the first caller, on a
    /// thread of its own; errors it throws (and binding errors) are kept, as a compile's are.
    /// </summary>
    public Task<IUserTask> GetStarted(string codeId, LoadedScript script) =>
        _started.GetOrAdd(codeId, _ => new Lazy<Task<IUserTask>>(() => Task.Run(() => ScriptCompiler.Start(script)))).Value;

    /// <summary>Forgets a code id whose source could not be loaded, so a later task can try again.</summary>
    public void Forget(string codeId) => _loaded.TryRemove(codeId, out _);

    /// <summary>Where the image of a code id lives; null without a folder, or for an id that is not a plain file name.</summary>
    public string? ImagePath(string codeId) =>
        folder is null || !SafeId().IsMatch(codeId) ? null : Path.Combine(folder, $"{codeId}-{ImageVersion}.dll");

    /// <summary>
    /// The cached image loaded, or null when there is none or it cannot be loaded (a torn or foreign
    /// file): that one is deleted and the source compiled again.
    /// </summary>
    private LoadedScript? TryLoad(string file, string codeId)
    {
        byte[] image;
        try { image = File.ReadAllBytes(file); }
        catch (IOException) { return null; } // absent (FileNotFound is an IOException) or unreadable
        catch (UnauthorizedAccessException) { return null; }
        try
        {
            var script = ScriptCompiler.LoadImage(image, codeId);
            log?.Invoke($"{codeId}: compiled code loaded from {file}");
            return script;
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or TypeLoadException or MissingMethodException or InvalidOperationException)
        {
            log?.Invoke($"{codeId}: ignoring the unreadable cached image {file} ({e.GetType().Name}); compiling again");
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
