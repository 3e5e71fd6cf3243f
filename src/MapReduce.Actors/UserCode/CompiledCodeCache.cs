using System.Collections.Concurrent;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// One compilation per code id per process: concurrent tasks for the same code share one Lazy, so
/// Roslyn runs once even when several tasks start together. A failed compilation is cached too
/// (the same source would fail the same way).
/// </summary>
public sealed class CompiledCodeCache
{
    private readonly ConcurrentDictionary<string, Lazy<Task<IUserTask>>> _compiled = new();

    public Task<IUserTask> GetOrCompile(string codeId, Func<Task<string>> loadSource) =>
        _compiled.GetOrAdd(codeId, id => new Lazy<Task<IUserTask>>(async () =>
        {
            var source = await loadSource().ConfigureAwait(false);
            return await Task.Run(() => ScriptCompiler.Compile(source, id)).ConfigureAwait(false);
        })).Value;

    /// <summary>Forgets a code id whose source could not be loaded, so a later task can try again.</summary>
    public void Forget(string codeId) => _compiled.TryRemove(codeId, out _);
}
